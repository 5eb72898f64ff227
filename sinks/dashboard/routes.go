package dashboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"time"
)

// routes is the route table of the contract (notes/dashboard-api.md),
// wrapped in the security headers. Everything but the health checks and
// the app's static shell needs the token when one is set.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, s.local(s.authed(apiDeadline(h), false)))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.local(s.authed(s.metricsHandler(), false)))
	api("GET /api/symbols", s.symbols)
	api("GET /api/symbols/{symbol}/series", s.series)
	api("GET /api/symbols/{symbol}/history", s.history)
	api("GET /api/alerts", s.alerts)
	api("GET /api/engine", s.engine)
	api("POST /api/sql", s.sql)
	api("GET /api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route: "+r.Method+" "+r.URL.Path)
	})
	mux.Handle("GET /api/stream", s.local(s.authed(http.HandlerFunc(s.stream), true)))
	// The static shell holds no data and no secret, and a browser cannot
	// send a bearer header when it navigates: the page loads without the
	// token, then asks for it when the API answers 401.
	mux.Handle("GET /{$}", s.local(http.HandlerFunc(s.page)))
	mux.Handle("GET /assets/", s.local(s.assetHandler()))
	return securityHeaders(mux)
}

// securityHeaders keeps the page to its own origin's scripts, styles and
// connections, out of frames, and its URLs (which may carry the stream's
// access_token) out of Referer headers.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// authed requires the bearer token, when one is set: in the Authorization
// header, or for the SSE stream (EventSource cannot set headers) also as
// ?access_token=. Both sides are hashed first, so the comparison takes the
// same time whatever the length or content of the guess.
func (s *Server) authed(next http.Handler, queryToken bool) http.Handler {
	if !s.hasToken {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok && queryToken {
			got, ok = r.URL.Query().Get("access_token"), r.URL.Query().Has("access_token")
		}
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], s.token[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tickstream"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer <dashboard.token>")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// local refuses requests for other host names when no token is set: a
// loopback server without a token trusts whoever can reach it, and DNS
// rebinding would let any web page reach it under the page's own name.
func (s *Server) local(next http.Handler) http.Handler {
	if s.hasToken {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			writeError(w, http.StatusForbidden, "without dashboard.token this server answers to localhost and loopback addresses only")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiDeadline bounds a JSON response's write: the server has no global
// WriteTimeout, which would cut the SSE stream.
func apiDeadline(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(2 * time.Minute))
		h(w, r)
	})
}

func (s *Server) metricsHandler() http.Handler {
	if s.metrics != nil {
		return s.metrics
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "metrics are not served by this process", http.StatusNotFound)
	})
}

// notBuilt is / when the app was not built into the binary.
const notBuilt = `<!doctype html>
<meta charset="utf-8">
<title>tickstream</title>
<p>dashboard assets are not built: run <code>make ui</code> (or <code>make run</code>) and rebuild.
<p>The JSON API works: <a href="api/symbols">/api/symbols</a>, <a href="api/engine">/api/engine</a>.
`

func (s *Server) page(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	if s.index == nil {
		_, _ = w.Write([]byte(notBuilt))
		return
	}
	_, _ = w.Write(s.index)
}

// assetHandler serves the app's files (not directory listings); they are
// not content-hashed, so browsers revalidate them.
func (s *Server) assetHandler() http.Handler {
	if s.assets == nil {
		return http.NotFoundHandler()
	}
	files := http.FileServerFS(s.assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
