package query

import (
	"bytes"
	"database/sql/driver"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Formats are the output formats NewWriter knows.
var Formats = []string{"table", "csv", "json"}

// NewWriter returns a Writer printing to w as format: "table" (aligned
// columns for reading; buffers the rows to size them), "csv" (RFC 4180 with
// a header row, NULL as an empty field) or "json" (one object per row and
// line, keys in column order, NULL as null).
func NewWriter(format string, w io.Writer) (Writer, error) {
	switch format {
	case "table":
		return &tableWriter{w: w}, nil
	case "csv":
		return &csvWriter{w: csv.NewWriter(w)}, nil
	case "json":
		return &jsonWriter{w: w}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// text renders a non-NULL value the same way in every format. Times are
// ISO 8601 with milliseconds (the lake's precision), microseconds when a
// value has them; TIMESTAMPTZ, the lake's timestamps, ends in Z.
func text(v driver.Value, typ string) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
		return fmt.Sprint(x)
	case float64:
		return formatFloat(x, 64)
	case float32:
		return formatFloat(float64(x), 32)
	case time.Time:
		return formatTime(x, typ)
	case []byte:
		return "\\x" + hex.EncodeToString(x)
	case *big.Int:
		return x.String()
	case duckdb.Decimal:
		return x.String()
	case duckdb.Interval:
		return formatInterval(x)
	}
	if b, err := json.Marshal(v); err == nil { // LIST, STRUCT: JSON reads well
		return string(b)
	}
	return fmt.Sprint(v)
}

// formatFloat writes plain decimals for the magnitudes prices and volumes
// have, exponents only far outside them.
func formatFloat(f float64, bits int) string {
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(f, 'g', -1, bits)
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}

// formatInterval writes an interval as DuckDB does: "1 year 2 months 3 days
// 01:30:00".
func formatInterval(iv duckdb.Interval) string {
	var parts []string
	unit := func(n int64, name string) {
		if n == 1 || n == -1 {
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		} else if n != 0 {
			parts = append(parts, fmt.Sprintf("%d %ss", n, name))
		}
	}
	unit(int64(iv.Months/12), "year")
	unit(int64(iv.Months%12), "month")
	unit(int64(iv.Days), "day")
	if us := iv.Micros; us != 0 || len(parts) == 0 {
		sign := ""
		if us < 0 {
			sign, us = "-", -us
		}
		clock := fmt.Sprintf("%s%02d:%02d:%02d", sign, us/3_600_000_000, us/60_000_000%60, us/1_000_000%60)
		if frac := us % 1_000_000; frac != 0 {
			clock += fmt.Sprintf(".%06d", frac)
		}
		parts = append(parts, clock)
	}
	return strings.Join(parts, " ")
}

func formatTime(t time.Time, typ string) string {
	frac := ".000"
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		frac = ".000000"
	}
	switch typ {
	case "DATE":
		return t.Format("2006-01-02")
	case "TIME", "TIME WITH TIME ZONE", "TIMETZ":
		return t.Format("15:04:05" + frac)
	case "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ":
		return t.UTC().Format("2006-01-02T15:04:05" + frac + "Z")
	}
	return t.Format("2006-01-02T15:04:05" + frac)
}

// numeric reports whether a DuckDB type is a number (right-aligned in
// tables).
func numeric(typ string) bool {
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
		"FLOAT", "DOUBLE", "BIGNUM":
		return true
	}
	return strings.HasPrefix(typ, "DECIMAL")
}

// tableWriter prints aligned columns. Cells longer than maxCell runes are
// cut (payloads can be kilobytes); control characters are escaped so each
// row stays one line. CSV and JSON print values whole.
type tableWriter struct {
	w     io.Writer
	cols  []Column
	cells [][]string
}

const maxCell = 80

func (t *tableWriter) Header(cols []Column) error {
	t.cols = cols
	return nil
}

func (t *tableWriter) Row(vals []driver.Value) error {
	row := make([]string, len(vals))
	for i, v := range vals {
		if v == nil {
			row[i] = "NULL"
			continue
		}
		row[i] = cell(text(v, t.cols[i].Type))
	}
	t.cells = append(t.cells, row)
	return nil
}

func cell(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxCell-1 {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}

func (t *tableWriter) End(truncated bool) error {
	width := make([]int, len(t.cols))
	for i, c := range t.cols {
		width[i] = utf8.RuneCountInString(c.Name)
	}
	for _, row := range t.cells {
		for i, s := range row {
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	var b bytes.Buffer
	line := func(cells []string, rightAlign bool) {
		for i, s := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(s))
			if i > 0 {
				b.WriteString("  ")
			}
			switch {
			case rightAlign && numeric(t.cols[i].Type):
				b.WriteString(pad + s)
			case i == len(cells)-1:
				b.WriteString(s) // no trailing blanks
			default:
				b.WriteString(s + pad)
			}
		}
		// An empty last cell leaves the padding before it: trim it.
		trimmed := bytes.TrimRight(b.Bytes(), " ")
		b.Truncate(len(trimmed))
		b.WriteByte('\n')
	}
	names, rules := make([]string, len(t.cols)), make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i], rules[i] = c.Name, strings.Repeat("-", width[i])
	}
	line(names, true)
	line(rules, false)
	for _, row := range t.cells {
		line(row, true)
	}
	switch {
	case truncated:
		fmt.Fprintf(&b, "(first %d rows; the row limit left out the rest)\n", len(t.cells))
	case len(t.cells) == 1:
		b.WriteString("(1 row)\n")
	default:
		fmt.Fprintf(&b, "(%d rows)\n", len(t.cells))
	}
	_, err := t.w.Write(b.Bytes())
	return err
}

type csvWriter struct {
	w    *csv.Writer
	cols []Column
	rec  []string
}

func (c *csvWriter) Header(cols []Column) error {
	c.cols = cols
	c.rec = make([]string, len(cols))
	for i, col := range cols {
		c.rec[i] = col.Name
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) Row(vals []driver.Value) error {
	for i, v := range vals {
		c.rec[i] = ""
		if v != nil {
			c.rec[i] = text(v, c.cols[i].Type)
		}
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) End(bool) error {
	c.w.Flush()
	return c.w.Error()
}

// jsonWriter writes JSON Lines. Numbers stay numbers (NaN and ±Inf, which
// JSON cannot hold, become null); times and everything else textual are
// strings; LIST and STRUCT values are nested JSON.
type jsonWriter struct {
	w    io.Writer
	cols []Column
	keys [][]byte // quoted, de-duplicated column names
	buf  bytes.Buffer
}

func (j *jsonWriter) Header(cols []Column) error {
	j.cols = cols
	seen := map[string]int{}
	for _, c := range cols {
		name := c.Name
		if n := seen[c.Name]; n > 0 {
			name = fmt.Sprintf("%s_%d", c.Name, n+1) // SELECT a, a: keys must differ
		}
		seen[c.Name]++
		j.keys = append(j.keys, jsonString(name))
	}
	return nil
}

func (j *jsonWriter) Row(vals []driver.Value) error {
	b := &j.buf
	b.Reset()
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(j.keys[i])
		b.WriteByte(':')
		b.Write(jsonValue(v, j.cols[i].Type))
	}
	b.WriteString("}\n")
	_, err := j.w.Write(b.Bytes())
	return err
}

func (j *jsonWriter) End(bool) error { return nil }

func jsonValue(v driver.Value, typ string) []byte {
	switch x := v.(type) {
	case nil:
		return []byte("null")
	case bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint, *big.Int, duckdb.Decimal:
		return []byte(text(x, typ))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return []byte("null")
		}
		return []byte(formatFloat(x, 64))
	case float32:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return []byte("null")
		}
		return []byte(formatFloat(f, 32))
	case string, time.Time, []byte, duckdb.Interval:
		return jsonString(text(x, typ))
	}
	if b, err := json.Marshal(v); err == nil {
		return b
	}
	return jsonString(fmt.Sprint(v))
}

// jsonString quotes s without encoding/json's HTML escaping of <, > and &.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
