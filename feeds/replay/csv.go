package replay

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tickstream/tickstream/tick"
)

// csvStream reads ticks from a CSV file with a header naming the columns
// symbol, ts, price, volume and optionally bid, ask, in any order. ts is
// RFC 3339 or epoch milliseconds; an empty bid or ask is not quoted.
type csvStream struct {
	f    *os.File
	r    *csv.Reader
	name string
	col  [6]int // index of symbol, ts, price, volume, bid, ask; -1 absent
	syms interner
	bad  func(where, why string, raw []string)
}

var csvColumns = [6]string{"symbol", "ts", "price", "volume", "bid", "ask"}

func openCSV(path string, bad func(where, why string, raw []string)) (*csvStream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // checked per row, so a short row is skipped, not fatal
	r.ReuseRecord = true
	r.Comment = '#'
	head, err := r.Read()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("replay %s: header: %w", path, err)
	}
	s := &csvStream{f: f, r: r, name: path, bad: bad}
	for i := range s.col {
		s.col[i] = -1
	}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		for j, c := range csvColumns {
			if h == c {
				if s.col[j] >= 0 {
					f.Close()
					return nil, fmt.Errorf("replay %s: column %q twice in the header", path, c)
				}
				s.col[j] = i
			}
		}
	}
	for j, c := range csvColumns[:4] {
		if s.col[j] < 0 {
			f.Close()
			return nil, fmt.Errorf("replay %s: header %q lacks column %q (want symbol,ts,price,volume[,bid,ask])",
				path, strings.Join(head, ","), c)
		}
	}
	return s, nil
}

func (s *csvStream) next(t *tick.Tick) (bool, error) {
	for {
		rec, err := s.r.Read()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				s.bad(fmt.Sprintf("%s:%d", s.name, pe.Line), pe.Err.Error(), rec)
				continue
			}
			return false, fmt.Errorf("replay %s: %w", s.name, err)
		}
		if why := s.parse(rec, t); why != "" {
			line, _ := s.r.FieldPos(0)
			s.bad(fmt.Sprintf("%s:%d", s.name, line), why, rec)
			continue
		}
		return true, nil
	}
}

// parse fills t from one row, or says what is wrong with it.
func (s *csvStream) parse(rec []string, t *tick.Tick) string {
	field := func(j int) string {
		if i := s.col[j]; i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for j := range 4 {
		if field(j) == "" {
			return "no " + csvColumns[j]
		}
	}
	*t = tick.Tick{Symbol: s.syms.intern(field(0))} // the record is reused
	ts := field(1)
	if ms, err := strconv.ParseInt(ts, 10, 64); err == nil {
		t.TS = ms
	} else if tm, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		t.TS = tm.UnixMilli()
	} else {
		return "ts is neither RFC 3339 nor epoch milliseconds"
	}
	nums := [...]*float64{nil, nil, &t.Price, &t.Volume, &t.Bid, &t.Ask}
	for j := 2; j < 6; j++ {
		v := field(j)
		if v == "" {
			continue // only bid and ask may be empty: checked above
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return csvColumns[j] + " is not a number"
		}
		*nums[j] = f
	}
	return ""
}

func (s *csvStream) close() error { return s.f.Close() }
