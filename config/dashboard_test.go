package config

import (
	"strings"
	"testing"
	"time"
)

// TestDashboardLimits: a server reachable from other machines must have a
// token, tokens are long enough, and the token is never in a message.
func TestDashboardLimits(t *testing.T) {
	const token = "s3cret-s3cret-s3cret"
	f := func(change func(d *Dashboard), want ...string) {
		t.Helper()
		c := Default()
		change(&c.Dashboard)
		got := ""
		if err := c.Validate(); err != nil {
			got = err.Error()
		}
		if w := strings.Join(want, "\n"); got != w {
			t.Errorf("got:\n%s\nwant:\n%s", got, w)
		}
		if strings.Contains(got, token) || strings.Contains(got, "short") {
			t.Errorf("the token is shown: %s", got)
		}
	}
	f(func(d *Dashboard) {})
	f(func(d *Dashboard) { d.Listen = "" })
	f(func(d *Dashboard) { d.Listen = "localhost:9000" })
	f(func(d *Dashboard) { d.Listen = "[::1]:8080" })
	f(func(d *Dashboard) { d.Listen = "127.0.0.1:0" })
	f(func(d *Dashboard) { d.Listen = "0.0.0.0:8080"; d.Token = token })
	f(func(d *Dashboard) { d.Listen = ":8080"; d.Token = token })
	f(func(d *Dashboard) { d.Listen = "0.0.0.0:8080" },
		`dashboard.token: must be set when dashboard.listen is not a loopback address (0.0.0.0:8080 is reachable from other machines; `+
			`e.g. token: ${TICKSTREAM_DASHBOARD_TOKEN}, or listen on 127.0.0.1), got ""`)
	f(func(d *Dashboard) { d.Listen = "dashboard.internal:8080" },
		`dashboard.token: must be set when dashboard.listen is not a loopback address (dashboard.internal:8080 is reachable from other machines; `+
			`e.g. token: ${TICKSTREAM_DASHBOARD_TOKEN}, or listen on 127.0.0.1), got ""`)
	f(func(d *Dashboard) { d.Token = "short" }, "dashboard.token: must be empty or at least 16 characters, got 5 characters")
	f(func(d *Dashboard) { d.Listen = "8080" }, `dashboard.listen: must be "" (off) or host:port, e.g. 127.0.0.1:8080 (port 0: any free port, logged at start), got "8080"`)
	f(func(d *Dashboard) { d.PushInterval = 50 * time.Millisecond },
		"dashboard.push_interval: must be in [100ms, 1m], got 50ms")
	f(func(d *Dashboard) { d.History = time.Hour })
	f(func(d *Dashboard) { d.History = time.Hour + time.Second },
		"dashboard.history: must be at most 3600 × dashboard.push_interval (1h), the samples kept per symbol, got 1h0m1s")
	f(func(d *Dashboard) { d.History = 25 * time.Hour; d.PushInterval = time.Minute },
		"dashboard.history: must be in [1s, 24h], got 25h")
	f(func(d *Dashboard) { d.AlertsKept = 0 }, "dashboard.alerts_kept: must be in [1, 100000], got 0")
	f(func(d *Dashboard) { d.SQLRowLimit = 1_000_001 }, "dashboard.sql_row_limit: must be in [1, 1000000], got 1000001")
}

func TestListenIsLoopback(t *testing.T) {
	f := func(listen string, want bool) {
		t.Helper()
		if got := ListenIsLoopback(listen); got != want {
			t.Errorf("ListenIsLoopback(%q) = %v, want %v", listen, got, want)
		}
	}
	f("127.0.0.1:8080", true)
	f("127.8.9.10:8080", true)
	f("localhost:8080", true)
	f("[::1]:8080", true)
	f(":8080", false)
	f("0.0.0.0:8080", false)
	f("[::]:8080", false)
	f("192.168.1.5:8080", false)
	f("example.com:8080", false)
	f("localhost.example.com:8080", false)
	f("127.0.0.1", false) // no port: not an address at all
}

// TestDashboardTokenFromEnv: a token from the environment is never shown,
// whatever is wrong with it.
func TestDashboardTokenFromEnv(t *testing.T) {
	t.Setenv("TICKSTREAM_TEST_DASHBOARD_TOKEN", "tiny")
	_, err := Parse([]byte("dashboard: {token: '${TICKSTREAM_TEST_DASHBOARD_TOKEN}'}\n"), "c.yaml")
	want := "c.yaml:1: dashboard.token: must be empty or at least 16 characters, got a value from the environment (not shown)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
