package operators

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/tick"
)

// TestStateRoundTrip checkpoints every symbol's state in the middle of a
// random stream, restores it into fresh states and checks that the rest of
// the stream gives bit-identical results on both.
func TestStateRoundTrip(t *testing.T) {
	f := func(name string, cut int, mod func(*config.Config)) {
		t.Helper()
		cfg := testConfig(mod)
		rng := rand.New(rand.NewPCG(5, uint64(cut)))
		in := genStream(rng, streamOpts{n: 4000, symbols: cfg.Symbols, lateness: 3000, future: 60000, mixed: true})
		orig := newRunner(mustNew(t, cfg))
		for i := range in[:cut] {
			orig.process(&in[i].t, in[i].rec)
		}
		restored := newRunner(mustNew(t, cfg))
		for sym, st := range orig.states {
			data, err := st.MarshalBinary()
			if err != nil {
				t.Fatalf("%s: marshal %s: %v", name, sym, err)
			}
			nst := restored.p.NewState(sym)
			if err := nst.UnmarshalBinary(data); err != nil {
				t.Fatalf("%s: unmarshal %s: %v", name, sym, err)
			}
			again, _ := nst.AppendBinary([]byte("prefix"))
			if !bytes.Equal(again[len("prefix"):], data) {
				t.Fatalf("%s: %s encodes differently after a round trip", name, sym)
			}
			restored.states[sym] = nst
		}
		for i := range in[cut:] {
			x := in[cut+i]
			a := *orig.process(&x.t, x.rec)
			a.Alerts = append([]Alert(nil), a.Alerts...)
			b := restored.process(&x.t, x.rec)
			if !sameResult(&a, b) {
				t.Fatalf("%s: tick %d after restore: %+v, original %+v", name, cut+i, *b, a)
			}
		}
	}
	f("early", 7, nil)
	f("windows full", 2500, nil)
	f("no time window", 2500, func(c *config.Config) { c.Average.Window = 0 })
	f("window shorter than lateness", 2500, func(c *config.Config) { c.Average.Window = time.Second })
	f("empty", 0, nil)
}

func TestUnmarshalRejects(t *testing.T) {
	cfg := testConfig(nil)
	p := mustNew(t, cfg)
	r := newRunner(p)
	in := genStream(rand.New(rand.NewPCG(9, 9)), streamOpts{n: 600, symbols: []string{"AAA"}, lateness: 3000, future: 60000})
	for i := range in {
		r.process(&in[i].t, in[i].rec)
	}
	good, _ := r.states["AAA"].MarshalBinary()

	f := func(desc string, st *State, data []byte, want string) {
		t.Helper()
		before, _ := st.MarshalBinary()
		err := st.UnmarshalBinary(data)
		if err == nil || !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want ErrCheckpoint containing %q", desc, err, want)
		}
		if after, _ := st.MarshalBinary(); !bytes.Equal(before, after) {
			t.Errorf("%s: a failed restore changed the state", desc)
		}
	}
	other := func(mod func(*config.Config)) *State { return mustNew(t, testConfig(mod)).NewState("AAA") }
	f("other symbol", p.NewState("BBB"), good, `checkpoint is of symbol "AAA"`)
	f("other window size", other(func(c *config.Config) { c.Average.Ticks = 30 }), good, "moving_average.ticks=20")
	f("time window off", other(func(c *config.Config) { c.Average.Window = 0 }), good, "moving_average.window=10000ms")
	f("other lateness", other(func(c *config.Config) { c.Clean.AllowedLateness = time.Second }), good, "clean.allowed_lateness=3000ms")
	f("not from NewState", &State{symbol: "AAA"}, good, "Pipeline.NewState")
	f("empty", p.NewState("AAA"), nil, "truncated")
	f("version", p.NewState("AAA"), append([]byte{9}, good[1:]...), "version 9")
	f("trailing bytes", p.NewState("AAA"), append(append([]byte(nil), good...), 0), "1 bytes after the end")
	for n := 1; n < len(good); n++ {
		st := p.NewState("AAA")
		if err := st.UnmarshalBinary(good[:n]); err == nil {
			t.Fatalf("a checkpoint cut to %d of %d bytes was accepted", n, len(good))
		}
	}
	// A changed threshold is not part of the shape: the state restores and
	// the new rules apply.
	st := other(func(c *config.Config) { c.Anomaly.DropReturnWindow = time.Second })
	if err := st.UnmarshalBinary(good); err != nil {
		t.Errorf("restore under changed thresholds: %v", err)
	}
}

// FuzzUnmarshalState: no input makes UnmarshalBinary or a later Process
// panic, and whatever it accepts encodes back to a checkpoint it accepts.
func FuzzUnmarshalState(f *testing.F) {
	cfg := testConfig(func(c *config.Config) { c.Average.Ticks = 5 })
	p, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	r := newRunner(p)
	in := genStream(rand.New(rand.NewPCG(1, 2)), streamOpts{n: 40, symbols: []string{"AAA"}, lateness: 3000, future: 60000})
	for i := range in {
		r.process(&in[i].t, in[i].rec)
		data, _ := r.states["AAA"].MarshalBinary()
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st := p.NewState("AAA")
		if st.UnmarshalBinary(data) != nil {
			return
		}
		again, _ := st.MarshalBinary()
		if err := p.NewState("AAA").UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoded checkpoint refused: %v", err)
		}
		var res Result
		for i := range in {
			p.Process(st, &in[i].t, in[i].rec, &res)
		}
		tk := tick.Tick{Symbol: "AAA", TS: st.newest, Price: 1, Volume: 1}
		p.Process(st, &tk, tk.TS, &res)
	})
}
