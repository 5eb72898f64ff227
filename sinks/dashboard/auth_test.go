package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestAuth: with a token set, every route but the health checks and the
// static shell needs it as a bearer header (the stream also as
// ?access_token=); a wrong or missing token gets 401 and never an echo.
func TestAuth(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	fx := newFixture(t, func(o *Options) { o.Token = testToken; o.Log = zap.New(core) })
	tok := testToken.Reveal()
	f := func(method, target, auth string, want int) {
		t.Helper()
		hdr := []string{"Content-Type", "application/json"}
		if auth != "" {
			hdr = append(hdr, "Authorization", auth)
		}
		body := ""
		if method == "POST" {
			body = `{"sql":"SELECT 1"}`
		}
		var status int
		var h http.Header
		var b []byte
		if strings.HasPrefix(target, "/api/stream") {
			status, h, b = fx.stream(t, target, hdr...)
		} else {
			status, h, b = fx.do(t, method, target, body, hdr...)
		}
		if status != want {
			t.Errorf("%s %s with %q: %d, want %d: %.200s", method, target, auth, status, want, b)
		}
		if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") != `Bearer realm="tickstream"` {
			t.Errorf("%s %s: 401 without WWW-Authenticate", method, target)
		}
		if strings.Contains(string(b), tok) {
			t.Errorf("%s %s: the token is in the response", method, target)
		}
	}
	for _, target := range []string{"/api/symbols", "/api/symbols/AAPL/series", "/api/alerts", "/api/engine", "/metrics", "/api/stream"} {
		f("GET", target, "", 401)
		f("GET", target, "Bearer wrong", 401)
		f("GET", target, "Bearer "+tok[:len(tok)-1], 401)
		f("GET", target, "Bearer "+tok+"x", 401)
		f("GET", target, "Basic "+tok, 401)
		f("GET", target+"?access_token=wrong", "", 401)
	}
	for _, target := range []string{"/api/symbols", "/api/symbols/AAPL/series", "/api/alerts", "/api/engine", "/api/stream"} {
		f("GET", target, "Bearer "+tok, 200)
		f("GET", target, "bearer "+tok, 200)
	}
	f("GET", "/metrics", "Bearer "+tok, 404) // authorised; no metrics handler in this fixture
	f("GET", "/api/stream?access_token="+tok, "", 200)
	f("GET", "/api/symbols?access_token="+tok, "", 401) // only the stream takes it from the URL
	f("POST", "/api/sql", "", 401)
	f("POST", "/api/sql", "Bearer wrong", 401)
	f("GET", "/healthz", "", 200)
	f("GET", "/readyz", "", 200)
	f("GET", "/", "", 200)
	f("GET", "/assets/app.js", "", 200)
	for _, e := range logs.All() {
		if strings.Contains(e.Message, tok) || strings.Contains(fmt.Sprint(e.ContextMap()), tok) {
			t.Errorf("the token is logged: %v", e)
		}
	}
}

// stream runs GET /api/stream until the snapshot is written, then ends
// the request.
func (f *fixture) stream(t testing.TB, target string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the handler writes the snapshot, then sees the request gone
	req := httptest.NewRequestWithContext(ctx, "GET", target, nil)
	req.Host = "127.0.0.1:8080"
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	return w.Code, w.Header(), w.Body.Bytes()
}

// TestLoopbackOnlyWithoutToken: a server without a token refuses to be
// built for a non-loopback address, naming both keys, and answers only to
// loopback host names (DNS rebinding); with a token, any name may be used.
func TestLoopbackOnlyWithoutToken(t *testing.T) {
	f := func(listen string, token bool, wantErr bool) {
		t.Helper()
		o := Options{Listen: listen, Hub: newFixture(t, nil).hub}
		if token {
			o.Token = testToken
		}
		_, err := New(o)
		if (err != nil) != wantErr {
			t.Errorf("New(%q, token %v): %v, want error %v", listen, token, err, wantErr)
		}
		if err != nil && (!strings.Contains(err.Error(), "dashboard.listen "+listen) || !strings.Contains(err.Error(), "dashboard.token")) {
			t.Errorf("New(%q): %q does not name dashboard.listen and dashboard.token", listen, err)
		}
	}
	f("127.0.0.1:8080", false, false)
	f("localhost:8080", false, false)
	f("[::1]:8080", false, false)
	f("0.0.0.0:8080", false, true)
	f(":8080", false, true)
	f("192.168.1.10:8080", false, true)
	f("dashboard.example:8080", false, true)
	f("0.0.0.0:8080", true, false)

	open := newFixture(t, nil)
	authed := newFixture(t, func(o *Options) { o.Token = testToken })
	g := func(fx *fixture, host string, want int) {
		t.Helper()
		status, _, b := fx.do(t, "GET", "/api/symbols", "", "Host", host, "Authorization", "Bearer "+testToken.Reveal())
		if status != want {
			t.Errorf("Host %s: %d, want %d: %.100s", host, status, want, b)
		}
	}
	g(open, "127.0.0.1:8080", 200)
	g(open, "localhost:8080", 200)
	g(open, "[::1]:8080", 200)
	g(open, "127.0.0.1", 200)
	g(open, "evil.example:8080", 403)
	g(open, "localhost.evil.example", 403)
	g(authed, "evil.example:8080", 200)
}

// TestSecurityHeaders: every response, errors included, carries them.
func TestSecurityHeaders(t *testing.T) {
	fx := newFixture(t, func(o *Options) { o.Token = testToken })
	for _, target := range []string{"/", "/healthz", "/api/symbols", "/assets/app.js", "/nothing"} {
		_, h, _ := fx.do(t, "GET", target, "")
		if csp := h.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q", target, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", target, h)
		}
	}
}
