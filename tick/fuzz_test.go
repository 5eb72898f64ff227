package tick

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

const fuzzMaxBytes = 4096

// FuzzDecode seeds from testdata/seeds/*.json, each with no key, its own
// symbol and another key (plus testdata/fuzz/FuzzDecode, where go test -fuzz
// saves failing inputs: add them to git when it finds one). For every input: Decode does not panic; it agrees with the
// encoding/json reference on the reason and, when it accepts, on every field;
// a reused Decoder and a fresh one agree; and the tick survives
// AppendJSON → Decode unchanged.
func FuzzDecode(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "seeds", "*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds in testdata/seeds: %v", err)
	}
	for _, p := range paths {
		rec, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(nil), rec)
		f.Add([]byte("AAPL"), rec)
		f.Add([]byte("MSFT"), rec)
	}

	reused := NewDecoder(testSymbols, fuzzMaxBytes)
	f.Fuzz(func(t *testing.T, key, value []byte) {
		err := checkAgainstRef(t, reused, fuzzMaxBytes, key, value)

		var fresh Tick
		ferr := NewDecoder(testSymbols, fuzzMaxBytes).Decode(key, value, &fresh)
		if (err == nil) != (ferr == nil) || err != nil && err.Error() != ferr.Error() {
			t.Fatalf("reused decoder: %v, fresh decoder: %v", err, ferr)
		}
		if err != nil {
			return
		}

		enc := AppendJSON(nil, &fresh)
		var back Tick
		if err := reused.Decode(nil, enc, &back); err != nil {
			t.Fatalf("re-decoding %s (from %q): %v", enc, value, err)
		}
		// -0 bid/ask is written as absent and reads back as 0: compare with ==.
		if back != fresh {
			t.Fatalf("round trip through %s: %+v, want %+v", enc, back, fresh)
		}
	})
}

// FuzzAppendJSON checks AppendJSON against encoding/json for any finite tick.
func FuzzAppendJSON(f *testing.F) {
	f.Add("AAPL", int64(1795629492123), 189.42, 1200.0, 189.41, 189.43)
	f.Add("a\"\\\x00\u2028\xff", int64(-1), 1e-7, 1e21, 0.0, math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, sym string, ts int64, price, volume, bid, ask float64) {
		tk := Tick{Symbol: sym, TS: ts, Price: price, Volume: volume, Bid: bid, Ask: ask}
		got := AppendJSON(nil, &tk)
		want, err := refAppendJSON(&tk)
		if err != nil { // NaN or Inf: encoding/json refuses, we write null
			if !bytes.Contains(got, []byte("null")) {
				t.Fatalf("%+v: %s has no null", tk, got)
			}
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%+v:\n got %s\nwant %s", tk, got, want)
		}
	})
}
