package tick

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// refAppendJSON is the reference for AppendJSON: encoding/json with HTML
// escaping off, bid and ask omitempty.
func refAppendJSON(t *Tick) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Symbol string  `json:"symbol"`
		TS     int64   `json:"ts"`
		Price  float64 `json:"price"`
		Volume float64 `json:"volume"`
		Bid    float64 `json:"bid,omitempty"`
		Ask    float64 `json:"ask,omitempty"`
	}{t.Symbol, t.TS, t.Price, t.Volume, t.Bid, t.Ask})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

func TestAppendJSON(t *testing.T) {
	f := func(tk Tick) {
		t.Helper()
		want, err := refAppendJSON(&tk)
		if err != nil {
			t.Fatal(err)
		}
		prefix := []byte("prefix")
		got := AppendJSON(prefix, &tk)
		if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
			t.Fatalf("AppendJSON(%+v)\n got %s\nwant %s", tk, got, want)
		}
	}
	f(Tick{Symbol: "AAPL", TS: 1795629492123, Price: 189.42, Volume: 1200, Bid: 189.41, Ask: 189.43})
	f(Tick{Symbol: "BRK.B", TS: 946684800000, Price: 0.1, Volume: 0.5})
	f(Tick{Symbol: "^GSPC", TS: -1, Price: math.Copysign(0, -1), Volume: 0, Bid: math.Copysign(0, -1)})
	f(Tick{Symbol: "", TS: math.MaxInt64, Price: math.MaxFloat64, Volume: math.SmallestNonzeroFloat64})
	f(Tick{Symbol: "x", TS: math.MinInt64, Price: 1e-6, Volume: 9.99999e-7, Bid: 1e21, Ask: 999999999999999900000})
	f(Tick{Symbol: "x", Price: 1e-7, Volume: -1.5e-300, Bid: 1e100, Ask: -123456789.125})
	// Strings encoding/json escapes: quotes, backslash, control characters,
	// invalid UTF-8, U+2028/9; and what it leaves alone: <>&, DEL, non-ASCII.
	f(Tick{Symbol: "a\"b\\c/d\b\f\n\r\t\x00\x01\x1f\x7f"})
	f(Tick{Symbol: "<&>ÄPPL €\u2028\u2029\U0001F600"})
	f(Tick{Symbol: "\xff\xfe ok \xe2\x82 \xed\xa0\x80"})

	rng := rand.New(rand.NewPCG(5, 6))
	anyFloat := func() float64 {
		for {
			x := math.Float64frombits(rng.Uint64())
			switch {
			case rng.IntN(4) == 0:
				return 0
			case rng.IntN(3) == 0:
				return float64(rng.IntN(1e7)) / 100
			case !math.IsNaN(x) && !math.IsInf(x, 0):
				return x
			}
		}
	}
	for range 20000 {
		f(Tick{Symbol: "AAPL", TS: rng.Int64(), Price: anyFloat(), Volume: anyFloat(), Bid: anyFloat(), Ask: anyFloat()})
	}
}

// TestAppendJSONNonFinite: no JSON form, so null, and the output stays JSON.
func TestAppendJSONNonFinite(t *testing.T) {
	tk := Tick{Symbol: "AAPL", TS: 1795629492123, Price: math.NaN(), Volume: math.Inf(1), Bid: math.Inf(-1), Ask: 1}
	got := AppendJSON(nil, &tk)
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	for _, k := range []string{"price", "volume", "bid"} {
		if v, ok := m[k]; !ok || v != nil {
			t.Errorf("%s: %s = %v, want null", got, k, v)
		}
	}
	if err := NewDecoder(nil, 0).Decode(nil, got, &Tick{}); ReasonOf(err) != MissingField {
		t.Errorf("decoding %s: %v, want missing_field", got, err)
	}
}

// TestAppendJSONRoundTrip: whatever AppendJSON writes for a valid tick,
// Decode reads back unchanged (bid and ask of -0 come back as 0).
func TestAppendJSONRoundTrip(t *testing.T) {
	d := NewDecoder(testSymbols, 0)
	rng := rand.New(rand.NewPCG(7, 8))
	syms := append([]string{"MSFT", "A", "x_y-z.W^V=U", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"}, testSymbols...)
	anyFloat := func() float64 {
		for {
			if x := math.Float64frombits(rng.Uint64()); !math.IsNaN(x) && !math.IsInf(x, 0) {
				return x
			}
		}
	}
	for range 20000 {
		in := Tick{
			Symbol: syms[rng.IntN(len(syms))],
			TS:     minTS + rng.Int64N(maxTS-minTS),
			Price:  anyFloat(), Volume: anyFloat(), Bid: anyFloat(), Ask: anyFloat(),
		}
		if rng.IntN(2) == 0 {
			in.Bid, in.Ask = 0, 0
		}
		rec := AppendJSON(nil, &in)
		var out Tick
		if err := d.Decode([]byte(in.Symbol), rec, &out); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		if out != in {
			t.Fatalf("%s: decoded %+v, want %+v", rec, out, in)
		}
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	tk := Tick{Symbol: "AAPL", TS: 1795629492123, Price: 189.42, Volume: 1200, Bid: 189.41, Ask: 1e-9}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = AppendJSON(buf[:0], &tk) }); n != 0 {
		t.Errorf("AppendJSON: %v allocs, want 0", n)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	tk := Tick{Symbol: "AAPL", TS: 1795629492123, Price: 189.42, Volume: 1200, Bid: 189.41, Ask: 189.43}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], &tk)
	}
	b.SetBytes(int64(len(buf)))
}
