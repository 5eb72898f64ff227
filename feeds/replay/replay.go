package replay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/produce"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// Options configure a Replayer.
type Options struct {
	// From is a CSV file, a Parquet file, a lake table directory or a lake
	// root (see the package comment).
	From string
	// Speed is the pace relative to the recording: 1 as recorded, 10 ten
	// times faster; 0 as fast as possible (see ParseSpeed).
	Speed float64
	// Window is how many rows of each file are held to put slightly late
	// rows back in order (0: 4096).
	Window int
	Log    *zap.Logger // nil: no logs
	// LogEvery is the least time between two logged bad rows (0: 5 s); the
	// ones in between are counted and their number logged with the next.
	LogEvery time.Duration
}

// Replayer replays one source once.
type Replayer struct {
	o      Options
	csv    string      // the CSV file, or "" for Parquet
	groups []hourGroup // Parquet files by hour
	what   string

	Stats *feedstats.Stats // Ticks produced, Failures[BadRow]
	// OutOfOrder counts ticks produced earlier in event time than one
	// already produced from the same file (later than Window could fix).
	OutOfOrder atomic.Int64

	lastLog time.Time
	held    int
}

// New resolves o.From and lists what it will replay.
func New(o Options) (*Replayer, error) {
	if o.Speed < 0 {
		return nil, fmt.Errorf("replay: negative speed %v", o.Speed)
	}
	if o.Window <= 0 {
		o.Window = 4096
	}
	if o.LogEvery <= 0 {
		o.LogEvery = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	r := &Replayer{o: o, Stats: &feedstats.Stats{Provider: "replay"}}
	st, err := os.Stat(o.From)
	if err != nil {
		return nil, fmt.Errorf("replay --from: %w", err)
	}
	switch {
	case !st.IsDir() && strings.HasSuffix(o.From, ".parquet"):
		r.groups, r.what = []hourGroup{{files: []string{o.From}}}, "Parquet file "+o.From
	case !st.IsDir():
		r.csv, r.what = o.From, "CSV file "+o.From
	default:
		dir := o.From
		if b := filepath.Base(filepath.Clean(dir)); b != lake.TableRaw && b != lake.TableProcessed {
			for _, t := range []string{lake.TableProcessed, lake.TableRaw} {
				if fi, err := os.Stat(filepath.Join(dir, t)); err == nil && fi.IsDir() {
					dir = filepath.Join(dir, t)
					break
				}
			}
		}
		if r.groups, err = lakeFiles(dir); err != nil {
			return nil, err
		}
		n := 0
		for _, g := range r.groups {
			n += len(g.files)
		}
		if n == 0 {
			return nil, fmt.Errorf("replay --from %s: no .parquet files under %s", o.From, dir)
		}
		r.what = fmt.Sprintf("%d Parquet files in %d hours under %s", n, len(r.groups), dir)
	}
	return r, nil
}

// Source says what will be replayed, for the start-up log.
func (r *Replayer) Source() string { return r.what }

// Run produces every tick of the source through out, in event-time order,
// paced by Speed, until the source ends or ctx does (a normal stop). It does
// not flush out. It returns an error when the source cannot be read or a
// produce fails.
func (r *Replayer) Run(ctx context.Context, out *produce.Producer) error {
	w := out.NewWriter(ctx)
	p := pacer{speed: r.o.Speed}
	defer p.stop()
	var t tick.Tick
	groups := len(r.groups)
	if r.csv != "" {
		groups = 1
	}
	for g := range groups {
		src, err := r.open(g)
		if err != nil {
			return err
		}
		for n := 0; ; n++ {
			ok, err := src.next(&t)
			if err != nil || !ok {
				cerr := src.close()
				if err != nil {
					return err
				}
				if cerr != nil {
					return fmt.Errorf("replay: %w", cerr)
				}
				break
			}
			if n%1024 == 0 && ctx.Err() != nil || !p.wait(ctx, t.TS) {
				src.close()
				return nil
			}
			if err := w.Write(&t, false); err != nil {
				if errors.Is(err, produce.ErrStopped) {
					src.close()
					return fmt.Errorf("replay: %w", out.Err())
				}
				r.bad("", err.Error(), fmt.Sprintf("%+v", t))
				continue
			}
			r.Stats.Ticks.Add(1)
		}
	}
	return nil
}

// open returns the stream of group g: the CSV file, or the hour's files
// merged.
func (r *Replayer) open(g int) (stream, error) {
	badCSV := func(where, why string, raw []string) { r.bad(where, why, strings.Join(raw, ",")) }
	if r.csv != "" {
		s, err := openCSV(r.csv, badCSV)
		if err != nil {
			return nil, err
		}
		return newWindow(s, r.o.Window, &r.OutOfOrder), nil
	}
	var srcs []stream
	for _, f := range r.groups[g].files {
		s, err := openParquet(f)
		if err != nil {
			for _, s := range srcs {
				s.close()
			}
			return nil, err
		}
		srcs = append(srcs, newWindow(s, r.o.Window, &r.OutOfOrder))
	}
	m, err := newMerge(srcs)
	if err != nil {
		for _, s := range srcs {
			s.close()
		}
		return nil, err
	}
	return m, nil
}

// bad counts a row that is not a valid tick and logs it, throttled, with
// the row truncated.
func (r *Replayer) bad(where, why, raw string) {
	r.Stats.Fail(feedstats.BadRow)
	now := time.Now()
	if now.Sub(r.lastLog) < r.o.LogEvery {
		r.held++
		return
	}
	if len(raw) > 160 {
		raw = raw[:160]
		for !utf8.ValidString(raw) {
			raw = raw[:len(raw)-1]
		}
		raw += "…"
	}
	r.o.Log.Warn("replay: skipping a row that is not a valid tick", zap.String("at", where),
		zap.String("why", why), zap.String("row", strconv.Quote(raw)), zap.Int("skipped_unlogged", r.held))
	r.lastLog, r.held = now, 0
}

// pacer spaces ticks by their event times divided by the speed, from the
// first tick on; speed 0 never waits.
type pacer struct {
	speed float64
	start time.Time
	first int64
	timer *time.Timer
}

// minSleep: closer than this to a tick's time, send rather than sleep.
const minSleep = time.Millisecond

func (p *pacer) wait(ctx context.Context, ts int64) bool {
	if p.speed == 0 {
		return true
	}
	if p.start.IsZero() {
		p.start, p.first = time.Now(), ts
		return ctx.Err() == nil
	}
	d := time.Until(p.start.Add(time.Duration(float64(ts-p.first) * float64(time.Millisecond) / p.speed)))
	if d < minSleep {
		return true
	}
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-ctx.Done():
		return false
	case <-p.timer.C:
		return true
	}
}

func (p *pacer) stop() {
	if p.timer != nil {
		p.timer.Stop()
	}
}
