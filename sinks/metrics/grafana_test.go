package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

const dashboardPath = "../../deploy/grafana/tickstream.json"

// grafanaDashboard is the part of the dashboard JSON the test reads.
type grafanaDashboard struct {
	Inputs []struct {
		Name, Type, PluginID string
	} `json:"__inputs"`
	Templating struct {
		List []struct {
			Name       string
			Datasource grafanaDS
		}
	}
	Panels []struct {
		ID         int
		Type       string
		Title      string
		Datasource grafanaDS
		Targets    []struct {
			Expr       string
			Datasource grafanaDS
		}
	}
}

type grafanaDS struct{ Type, UID string }

var (
	ourMetric     = regexp.MustCompile(`tickstream_[a-z0-9_]+`)
	runtimeMetric = regexp.MustCompile(`\b(?:go|process)_[a-z0-9_]+`)
)

// TestGrafanaDashboard: deploy/grafana/tickstream.json parses, imports with
// a Prometheus data source chosen at import, and every metric its queries
// name exists: tickstream's in testdata/metrics.golden (so a rename breaks
// this test), the runtime's in a scrape of the handler's registry.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].Type != "datasource" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs = %+v, want the one Prometheus datasource DS_PROMETHEUS", d.Inputs)
	}
	checkDS := func(where string, ds grafanaDS) {
		t.Helper()
		if ds.Type != "prometheus" || ds.UID != "${DS_PROMETHEUS}" {
			t.Errorf("%s: datasource %+v, want prometheus ${DS_PROMETHEUS}", where, ds)
		}
	}
	for _, v := range d.Templating.List {
		checkDS("variable "+v.Name, v.Datasource)
	}

	ours := goldenNames(t)
	runtime := map[string]bool{}
	mfs, err := newRegistry(Sources{}).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		runtime[mf.GetName()] = true
	}

	ids := map[int]bool{}
	queries := 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		checkDS("panel "+p.Title, p.Datasource)
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries++
			checkDS("panel "+p.Title+" query", tg.Datasource)
			if err := balanced(tg.Expr); err != "" {
				t.Errorf("panel %q: %s in %s", p.Title, err, tg.Expr)
			}
			names := ourMetric.FindAllString(tg.Expr, -1)
			for _, n := range names {
				if !ours[seriesOf(n, ours)] {
					t.Errorf("panel %q: %s is not a tickstream metric (testdata/metrics.golden)", p.Title, n)
				}
			}
			rt := runtimeMetric.FindAllString(tg.Expr, -1)
			for _, n := range rt {
				if !runtime[seriesOf(n, runtime)] {
					t.Errorf("panel %q: %s is not exported by the runtime collectors", p.Title, n)
				}
			}
			if len(names)+len(rt) == 0 {
				t.Errorf("panel %q: query names no metric: %s", p.Title, tg.Expr)
			}
		}
	}
	if queries == 0 {
		t.Fatalf("%s has no query", dashboardPath)
	}
}

// seriesOf maps a histogram's or summary's _bucket, _sum or _count series
// to its metric when that is the known name.
func seriesOf(name string, known map[string]bool) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && !known[name] && known[base] {
			return base
		}
	}
	return name
}

// balanced checks a query's brackets and quotes pair up: a cheap stand-in
// for a PromQL parser (which would pull in Prometheus itself) that catches
// the usual editing slip.
func balanced(expr string) string {
	var stack []rune
	pair := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inQuote := false
	for _, r := range expr {
		switch {
		case r == '"':
			inQuote = !inQuote
		case inQuote:
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, r)
		case pair[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pair[r] {
				return "unbalanced " + string(r)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if inQuote {
		return "unterminated quote"
	}
	if len(stack) > 0 {
		return "unclosed " + string(stack[len(stack)-1])
	}
	return ""
}

func TestBalanced(t *testing.T) {
	f := func(expr string, ok bool) {
		t.Helper()
		if got := balanced(expr); (got == "") != ok {
			t.Errorf("balanced(%s) = %q, want ok=%v", expr, got, ok)
		}
	}
	f(`sum(rate(x{a="b"}[5m]))`, true)
	f(`sum(rate(x{a="}"}[5m]))`, true)
	f(`sum(rate(x{a="b"},c="d"}[5m]))`, false) // the slip this guards against
	f(`sum(rate(x[5m])`, false)
	f(`x{a="b}`, false)
}
