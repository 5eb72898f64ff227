package lake

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// pyarrowScript prints, for each file given, every column's Arrow type and
// nullability, and the ts and kafka_ts columns as integer milliseconds
// computed from the datetimes pyarrow decodes (null stays null).
const pyarrowScript = `
import datetime, json, sys
import pyarrow.parquet as pq
epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
out = {}
for path in sys.argv[1:]:
    t = pq.read_table(path)
    cols = {}
    for name in ("ts", "kafka_ts"):
        if name in t.column_names:
            cols[name] = [None if v is None else (v - epoch) // datetime.timedelta(milliseconds=1)
                          for v in t.column(name).to_pylist()]
    out[path] = {
        "types": {f.name: str(f.type) for f in t.schema},
        "nullable": {f.name: f.nullable for f in t.schema},
        "rows": t.num_rows,
        "ms": cols,
    }
print(json.dumps(out))
`

// TestPyarrowReadsTimestamps reads one file of each table with pyarrow, an
// independent Parquet implementation: timestamps must come back as
// timestamp[ms, tz=UTC] with the instants we wrote.
func TestPyarrowReadsTimestamps(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(python, "-c", "import pyarrow").Run()
	}
	if err != nil {
		t.Skipf("python3 with pyarrow not found (%v); to run this check put one on PATH, e.g. python3 -m venv /tmp/pa && /tmp/pa/bin/pip install pyarrow && PATH=/tmp/pa/bin:$PATH go test", err)
	}
	store, files, raw, proc, alerts, preds := writeSample(t, "zstd")
	path := func(f File) string { return filepath.Join(store.Dir(), filepath.FromSlash(f.Key)) }
	args := []string{"-c", pyarrowScript}
	for _, f := range files {
		args = append(args, path(f))
	}
	outb, err := exec.Command(python, args...).Output()
	if err != nil {
		t.Fatalf("pyarrow: %v\n%s", err, outb)
	}
	var out map[string]struct {
		Types    map[string]string
		Nullable map[string]bool
		Rows     int64
		MS       map[string][]*int64
	}
	if err := json.Unmarshal(outb, &out); err != nil {
		t.Fatalf("%v: %s", err, outb)
	}

	const wantTS = "timestamp[ms, tz=UTC]"
	check := func(f File, wantMS map[string][]int64, nullable []string) {
		t.Helper()
		got := out[path(f)]
		if got.Rows != f.Rows {
			t.Errorf("%s: pyarrow reads %d rows, want %d", f.Key, got.Rows, f.Rows)
		}
		for col, want := range wantMS {
			if got.Types[col] != wantTS {
				t.Errorf("%s: %s is %s, want %s", f.Key, col, got.Types[col], wantTS)
			}
			ms := got.MS[col]
			if len(ms) != len(want) {
				t.Errorf("%s: %s has %d values, want %d", f.Key, col, len(ms), len(want))
				continue
			}
			for i, w := range want {
				switch {
				case w == 0 && ms[i] != nil:
					t.Errorf("%s: %s[%d] = %d, want null", f.Key, col, i, *ms[i])
				case w != 0 && (ms[i] == nil || *ms[i] != w):
					t.Errorf("%s: %s[%d] = %v, want %d", f.Key, col, i, ms[i], w)
				}
				if t.Failed() {
					return
				}
			}
		}
		for _, col := range nullable {
			if !got.Nullable[col] || got.Types[col] != "double" && got.Types[col] != wantTS {
				t.Errorf("%s: %s is %s nullable=%v, want a nullable double or timestamp", f.Key, col, got.Types[col], got.Nullable[col])
			}
		}
		if got.Types["price"] != "" && got.Types["price"] != "double" {
			t.Errorf("%s: price is %s, want double", f.Key, got.Types["price"])
		}
	}

	// Expected instants: the input rows of each file's hour, in order;
	// 0 is NULL. Groups and files are both in hour order per table.
	byKey := map[string]map[string][]int64{}
	for _, g := range rawGroups(raw) {
		m := map[string][]int64{}
		for _, r := range g.rows {
			m["ts"], m["kafka_ts"] = append(m["ts"], r.TS), append(m["kafka_ts"], r.KafkaTS)
		}
		byKey[g.key] = m
	}
	for _, g := range processedGroups(proc) {
		m := map[string][]int64{}
		for _, r := range g.rows {
			m["ts"] = append(m["ts"], r.TS)
		}
		byKey[g.key] = m
	}
	for _, g := range alertGroups(alerts) {
		m := map[string][]int64{}
		for _, r := range g.rows {
			m["ts"] = append(m["ts"], r.TS)
		}
		byKey[g.key] = m
	}
	for _, g := range predictionGroups(preds) {
		m := map[string][]int64{}
		for _, r := range g.rows {
			m["ts"] = append(m["ts"], r.TS)
		}
		byKey[g.key] = m
	}
	nullable := map[string][]string{
		TableRaw:         {"ts", "bid", "ask"},
		TableProcessed:   {"bid", "ask", "ma_time"},
		TableAlerts:      nil,
		TablePredictions: nil,
	}
	if len(byKey) != len(files) {
		t.Fatalf("%d files, %d expected groups", len(files), len(byKey))
	}
	for _, f := range files {
		if byKey[f.Key] == nil {
			t.Fatalf("unexpected file %s", f.Key)
		}
		check(f, byKey[f.Key], nullable[f.Table])
	}
}
