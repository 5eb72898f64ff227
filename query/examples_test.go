package query

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/sinks/lake/athena"
)

// TestExamples runs the README's example queries, the same text Athena
// gets, over a simulated lake and checks each against a plain Go loop over
// the rows that were written.
func TestExamples(t *testing.T) {
	l := sharedSimLake(t)
	db := openLake(t, l.dir)
	if len(l.alerts) < 10 {
		t.Fatalf("only %d alerts simulated: the alerts example would test little", len(l.alerts))
	}
	examples, err := athena.Examples()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]func(*simLake) ([]string, [][]any){
		"1_daily_ohlcv":     wantOHLCV,
		"2_alerts_of_a_day": wantAlerts,
		"3_ma_vs_price":     wantMAvsPrice,
	}
	for _, ex := range examples {
		t.Run(ex.Name, func(t *testing.T) {
			f := want[ex.Name]
			if f == nil {
				t.Fatalf("no expectation for example %s", ex.Name)
			}
			got := run(t, db, ex.SQL)
			cols, rows := f(l)
			var names []string
			for _, c := range got.cols {
				names = append(names, c.Name)
			}
			if !slices.Equal(names, cols) {
				t.Fatalf("columns %v, want %v", names, cols)
			}
			if len(got.rows) != len(rows) || len(rows) == 0 {
				t.Fatalf("%d rows, want %d (> 0)", len(got.rows), len(rows))
			}
			for i := range rows {
				for j := range cols {
					if !same(got.rows[i][j], rows[i][j]) {
						t.Fatalf("row %d column %s: %v (%T), want %v (%T)", i, cols[j], got.rows[i][j], got.rows[i][j], rows[i][j], rows[i][j])
					}
				}
			}
		})
	}
}

// same compares a DuckDB value with an expectation: floats to 1e-9
// relative (sums may add in another order), times as instants.
func same(got, want any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w))
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	}
	return got == want
}

func wantOHLCV(l *simLake) ([]string, [][]any) {
	type key struct{ sym, date string }
	type agg struct {
		first, last       lake.ProcessedRow
		high, low, volume float64
		ticks             int64
	}
	m := map[key]*agg{}
	for _, r := range l.proc {
		k := key{r.Symbol, utcDate(r.TS)}
		if k.date < "2026-11-23" || k.date > "2026-11-24" {
			continue
		}
		a := m[k]
		if a == nil {
			a = &agg{first: r, last: r, high: r.Price, low: r.Price}
			m[k] = a
		}
		if r.TS < a.first.TS {
			a.first = r
		}
		if r.TS > a.last.TS {
			a.last = r
		}
		a.high, a.low = max(a.high, r.Price), min(a.low, r.Price)
		a.volume += r.Volume
		a.ticks++
	}
	keys := make([]key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.sym, b.sym), cmp.Compare(a.date, b.date)) })
	var rows [][]any
	for _, k := range keys {
		a := m[k]
		rows = append(rows, []any{k.sym, k.date, a.first.Price, a.high, a.low, a.last.Price, a.volume, a.ticks})
	}
	return []string{"symbol", "date", "open", "high", "low", "close", "volume", "ticks"}, rows
}

func wantAlerts(l *simLake) ([]string, [][]any) {
	var as []lake.AlertRow
	for _, a := range l.alerts {
		if utcDate(a.TS) == "2026-11-24" {
			as = append(as, a)
		}
	}
	slices.SortStableFunc(as, func(a, b lake.AlertRow) int {
		return cmp.Or(cmp.Compare(a.TS, b.TS), cmp.Compare(a.Symbol, b.Symbol), cmp.Compare(a.Kind, b.Kind))
	})
	var rows [][]any
	for _, a := range as {
		rows = append(rows, []any{time.UnixMilli(a.TS), a.Symbol, a.Kind, a.Rule, a.Observed, a.Threshold, a.Reference})
	}
	return []string{"ts", "symbol", "kind", "rule", "observed", "threshold", "reference"}, rows
}

func wantMAvsPrice(l *simLake) ([]string, [][]any) {
	last := map[int64]lake.ProcessedRow{} // minute → its last row
	for _, r := range l.proc {
		if r.Symbol != "AAPL" || utcDate(r.TS) != "2026-11-24" {
			continue
		}
		m := r.TS / 60000
		if prev, ok := last[m]; !ok || r.TS > prev.TS {
			last[m] = r
		}
	}
	minutes := make([]int64, 0, len(last))
	for m := range last {
		minutes = append(minutes, m)
	}
	slices.Sort(minutes)
	var rows [][]any
	for _, m := range minutes {
		r := last[m]
		pct := math.Round(100*(r.Price/r.MA-1)*1000) / 1000
		rows = append(rows, []any{time.UnixMilli(m * 60000), r.Price, r.MA, pct})
	}
	return []string{"minute", "price", "ma", "pct_above_ma"}, rows
}

// TestTablesCoverLake checks that every written row is in its view once,
// with "date" and "hour" from its folder as strings.
func TestTablesCoverLake(t *testing.T) {
	l := sharedSimLake(t)
	db := openLake(t, l.dir)
	type part struct{ date, hour string }
	count := func(ts []int64) map[part]int64 {
		m := map[part]int64{}
		for _, ms := range ts {
			u := time.UnixMilli(ms).UTC()
			m[part{u.Format("2006-01-02"), u.Format("15")}]++
		}
		return m
	}
	tsOf := func(n int, at func(int) int64) []int64 {
		ts := make([]int64, n)
		for i := range ts {
			ts[i] = at(i)
		}
		return ts
	}
	f := func(table string, want map[part]int64) {
		t.Helper()
		got := run(t, db, fmt.Sprintf(`SELECT "date", "hour", count(*), count(DISTINCT (kafka_partition, kafka_offset)) FROM %s GROUP BY ALL ORDER BY ALL`, table))
		if len(got.rows) != len(want) {
			t.Fatalf("%s: %d partitions, want %d", table, len(got.rows), len(want))
		}
		for _, r := range got.rows {
			p := part{r[0].(string), r[1].(string)}
			if r[2].(int64) != want[p] || (table != "alerts" && r[3].(int64) != want[p]) {
				t.Errorf("%s %v: %v rows (%v distinct offsets), want %d", table, p, r[2], r[3], want[p])
			}
		}
	}
	f("raw", count(tsOf(len(l.raw), func(i int) int64 { return l.raw[i].TS })))
	f("processed", count(tsOf(len(l.proc), func(i int) int64 { return l.proc[i].TS })))
	f("alerts", count(tsOf(len(l.alerts), func(i int) int64 { return l.alerts[i].TS })))
	f("predictions", count(tsOf(len(l.preds), func(i int) int64 { return l.preds[i].TS })))

	files := map[string]int{}
	for _, fl := range l.files {
		files[fl.Table]++
	}
	for table, n := range files {
		if db.Files(table) != n {
			t.Errorf("%s: view over %d files, %d were committed", table, db.Files(table), n)
		}
	}
}
