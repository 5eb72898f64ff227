package alert

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tickstream/tickstream/operators"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestAppendJSONGolden(t *testing.T) {
	alerts := []operators.Alert{
		{Symbol: "AAPL", Kind: operators.VolumeSpike, Rule: "factor", TS: 1764081067000, Observed: 91000, Threshold: 25000, Reference: 5000},
		{Symbol: "BRK.B", Kind: operators.PriceDrop, Rule: "from_max", TS: 1764081067123, Observed: 412.5, Threshold: 427.5, Reference: 450},
		{Symbol: `WEIRD"SYM`, Kind: operators.PriceDrop, Rule: "return", TS: 0, Observed: math.NaN(), Threshold: math.Inf(1), Reference: -0.5},
	}
	var got bytes.Buffer
	for i := range alerts {
		line := AppendJSON(nil, &alerts[i], int32(i), int64(1000+i))
		// Every line must be valid JSON that a consumer can decode.
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("alert %d is not valid JSON: %v\n%s", i, err, line)
		}
		if m["symbol"] != alerts[i].Symbol || m["kind"] != alerts[i].Kind.String() {
			t.Errorf("alert %d decodes to %v", i, m)
		}
		got.Write(line)
		got.WriteByte('\n')
	}
	golden := filepath.Join("testdata", "alerts.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("alert JSON changed (run with -update if intended):\n got: %s\nwant: %s", got.Bytes(), want)
	}
}

func TestMultiFansOut(t *testing.T) {
	var a, b recorder
	Multi{&a, &b}.Publish(&operators.Alert{Symbol: "KO"}, 1, 2)
	if len(a) != 1 || len(b) != 1 || a[0] != "KO" || b[0] != "KO" {
		t.Fatalf("fan-out: %v %v", a, b)
	}
}

type recorder []string

func (r *recorder) Publish(a *operators.Alert, _ int32, _ int64) { *r = append(*r, a.Symbol) }
