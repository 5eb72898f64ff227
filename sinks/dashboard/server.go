package dashboard

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
)

// Options configure a Server. Hub is required; every source may be nil.
type Options struct {
	// Listen is host:port (config dashboard.listen). Without a Token it
	// must be a loopback address.
	Listen string
	// Token is the bearer token (dashboard.token); "" turns auth off.
	Token config.Secret
	Hub   *Hub
	// LakeURL is lake.url: history and /api/sql query it through the query
	// package (a local lake only). SQLRowLimit bounds their rows.
	LakeURL     string
	SQLRowLimit int
	// Stats are the engine's counters; Partitions and Models describe it.
	Stats      *engine.Stats
	Partitions func() []engine.PartitionStatus
	Models     func() []ModelInfo
	// Checks are /readyz's checks, shown in this order.
	Checks []Check
	// Metrics serves /metrics (Prometheus text); nil: 404.
	Metrics http.Handler
	// Assets is the built single-page app (index.html, assets/…); nil or
	// without index.html, / says how to build it and the API still works.
	Assets fs.FS
	Log    *zap.Logger
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
}

// Check is one readiness check: Run returns nil when ready, else why not.
// The reason is shown to unauthenticated callers of /readyz.
type Check struct {
	Name string
	Run  func() error
}

// ModelInfo is a served model as /api/engine lists it.
type ModelInfo struct {
	Name, Kind, Version string
}

// Server is the dashboard's HTTP server and SSE broadcaster.
type Server struct {
	hub      *Hub
	log      *zap.Logger
	now      func() time.Time
	started  time.Time
	listen   string
	token    [sha256.Size]byte // of the token; compared in constant time
	hasToken bool
	lakeURL  string
	sqlLimit int
	stats    *engine.Stats
	parts    func() []engine.PartitionStatus
	models   func() []ModelInfo
	checks   []Check
	metrics  http.Handler
	assets   fs.FS
	index    []byte // nil: assets not built
	handler  http.Handler

	queue   int           // per-client event queue (tests shrink it)
	pushed  atomic.Int64  // quotes events sent (the benchmark counts them)
	slowLog throttle      // "client too slow" at most every 10 s
	lakeSem chan struct{} // DuckDB connections open at once

	engMu   sync.Mutex
	engAt   time.Time // last engine sample
	engRecs int64     // Records then
	rate    float64   // records/s between the last two samples
	hasRate bool

	ln net.Listener
}

// New checks the options and builds the server; Listen binds it.
func New(o Options) (*Server, error) {
	if o.Hub == nil {
		return nil, errors.New("BUG: dashboard.New without a Hub")
	}
	if o.Listen != "" && o.Token == "" && !config.ListenIsLoopback(o.Listen) {
		return nil, fmt.Errorf("dashboard.listen %s is reachable from other machines but dashboard.token is empty: "+
			"set dashboard.token (e.g. ${TICKSTREAM_DASHBOARD_TOKEN}) or listen on 127.0.0.1", o.Listen)
	}
	if o.SQLRowLimit < 1 {
		o.SQLRowLimit = config.Default().Dashboard.SQLRowLimit
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{
		hub: o.Hub, log: o.Log, now: o.Now, started: o.Now(), listen: o.Listen,
		lakeURL: o.LakeURL, sqlLimit: o.SQLRowLimit, stats: o.Stats, parts: o.Partitions, models: o.Models,
		checks: o.Checks, metrics: o.Metrics, assets: o.Assets,
		queue: clientQueue, slowLog: throttle{every: 10 * time.Second}, lakeSem: make(chan struct{}, 2),
	}
	if o.Token != "" {
		s.token, s.hasToken = sha256.Sum256([]byte(o.Token.Reveal())), true
	}
	if o.Assets != nil {
		if b, err := fs.ReadFile(o.Assets, "index.html"); err == nil {
			s.index = b
		}
	}
	s.handler = s.routes()
	return s, nil
}

// Handler is the server's whole HTTP handler (routes, auth, headers).
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds the listen address, so a port in use fails before anything
// else starts.
func (s *Server) Listen() error {
	if s.listen == "" {
		return errors.New(`dashboard.listen is "": the dashboard is off`)
	}
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return fmt.Errorf("dashboard.listen %s: %w", s.listen, err)
	}
	s.ln = ln
	return nil
}

// URL is the dashboard's address once listening, e.g.
// "http://127.0.0.1:8080/".
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String() + "/"
}

// Serve serves on the bound address and broadcasts live events until ctx
// ends, then closes every SSE stream and shuts down within 5 s. It returns
// nil after a clean stop.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("BUG: dashboard Serve before Listen")
	}
	srv := &http.Server{
		Handler: s.handler,
		// No ReadTimeout or WriteTimeout: both would cut the SSE stream.
		// Headers must come quickly; bodies (/api/sql only) get a read
		// deadline and a size limit in their handler, and every write a
		// deadline of its own.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(s.log.Named("http")),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	bctx, stopBroadcast := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.broadcast(bctx) })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(s.ln) }()

	var err error
	select {
	case err = <-served: // failed by itself
	case <-ctx.Done():
	}
	stopBroadcast()
	wg.Wait()
	s.hub.closeClients()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		_ = srv.Close()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}

// Close releases the listening socket if Serve never ran (Serve closes it
// itself); safe on a nil Server and more than once.
func (s *Server) Close() {
	if s == nil || s.ln == nil {
		return
	}
	_ = s.ln.Close()
}

// throttle lets an event through at most once per interval.
type throttle struct {
	mu     sync.Mutex
	every  time.Duration
	last   time.Time
	missed int64
}

func (t *throttle) allow(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.last) < t.every {
		t.missed++
		return false
	}
	t.last = now
	return true
}

func (t *throttle) suppressed() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.missed
	t.missed = 0
	return n
}
