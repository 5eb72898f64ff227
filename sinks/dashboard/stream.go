package dashboard

import (
	"context"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// The SSE stream. Each event is encoded once by the broadcaster and the
// same bytes are queued to every client; a client's own goroutine (its
// HTTP handler) writes them. A client whose queue is full has not written
// for about clientQueue push intervals: it is disconnected, and its
// EventSource reconnects and starts over from a fresh snapshot, so no
// client can make the server buffer without bound or slow the others.

const (
	clientQueue   = 32               // events queued per client before it counts as too slow
	writeTimeout  = 10 * time.Second // one event's write; a stalled connection fails here
	pingInterval  = 15 * time.Second // keeps proxies from closing an idle stream
	engineEvery   = 2 * time.Second  // engine counters event
	retryMs       = "2000"           // EventSource reconnection delay
	streamPreface = "retry: " + retryMs + "\n\n"
)

var pingEvent = []byte(": ping\n\n")

// client is one SSE connection.
type client struct {
	ch   chan []byte
	gone chan struct{} // closed when dropped or when the server stops
}

// subscribe adds a client; nil when the server is stopping.
func (h *Hub) subscribe(queue int) *client {
	c := &client{ch: make(chan []byte, queue), gone: make(chan struct{})}
	h.cmu.Lock()
	defer h.cmu.Unlock()
	if h.stopped {
		return nil
	}
	h.clients[c] = struct{}{}
	return c
}

// unsubscribe removes a client that ended by itself.
func (h *Hub) unsubscribe(c *client) {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c.gone)
	}
}

// fanout queues ev to every client without blocking and returns how many
// were too slow and dropped.
func (h *Hub) fanout(ev []byte) (dropped int) {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	for c := range h.clients {
		select {
		case c.ch <- ev:
		default:
			delete(h.clients, c)
			close(c.gone)
			dropped++
		}
	}
	return dropped
}

// Clients is the number of connected SSE clients.
func (h *Hub) Clients() int {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	return len(h.clients)
}

// closeClients ends every stream and refuses new ones.
func (h *Hub) closeClients() {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	h.stopped = true
	for c := range h.clients {
		delete(h.clients, c)
		close(c.gone)
	}
}

// broadcast is the one goroutine that builds and fans out events: quotes
// every push interval, alerts as they come, a snapshot when the symbol
// list changes, engine counters every 2 s and a ping every 15 s. Being
// the only sender keeps the order: no quotes event built for the old list
// can follow the new list's snapshot. It returns when ctx ends.
func (s *Server) broadcast(ctx context.Context) {
	push := time.NewTicker(s.hub.opts.PushInterval)
	defer push.Stop()
	eng := time.NewTicker(engineEvery)
	defer eng.Stop()
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	s.sampleEngine(s.now())
	for {
		select {
		case <-ctx.Done():
			return
		case <-push.C:
			s.pushQuotes(s.now())
		case <-s.hub.wake:
			// Alerts first: the snapshot after them already shows them
			// as the symbols' last alerts.
			s.send(s.hub.takeAlerts())
			s.send(s.hub.snapshotEvent(s.now()))
		case <-eng.C:
			now := s.now()
			s.sampleEngine(now)
			s.send(s.engineEvent(now))
		case <-ping.C:
			s.send(pingEvent)
		}
	}
}

// pushQuotes sends the quotes event of the symbols changed since the last.
func (s *Server) pushQuotes(now time.Time) {
	if ev := s.hub.quotesEvent(now); ev != nil {
		s.send(ev)
		s.pushed.Add(1)
	}
}

func (s *Server) send(ev []byte) {
	if len(ev) == 0 {
		return
	}
	if n := s.hub.fanout(ev); n > 0 && s.slowLog.allow(time.Now()) {
		s.log.Info("dashboard: disconnected SSE clients too slow to keep up; they reconnect with a fresh snapshot",
			zap.Int("clients", n), zap.Int64("suppressed_since_last", s.slowLog.suppressed()))
	}
}

func (s *Server) engineEvent(now time.Time) []byte {
	b := make([]byte, 0, 1024)
	b = append(b, "event: engine\ndata: "...)
	b = s.appendEngine(b, now)
	return append(b, "\n\n"...)
}

// stream serves GET /api/stream.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	c := s.hub.subscribe(s.queue)
	if c == nil {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.hub.unsubscribe(c)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream

	// Subscribed before the snapshot is taken: nothing that happens after
	// it can be missed, at worst a quote is sent twice.
	b := make([]byte, 0, 64<<10)
	b = append(b, streamPreface...)
	b = s.hub.appendSnapshot(b, s.now())
	if !s.write(rc, w, b) {
		return
	}
	for {
		select {
		case ev := <-c.ch:
			if !s.write(rc, w, ev) {
				return
			}
		case <-c.gone:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// write writes and flushes one event within writeTimeout.
func (s *Server) write(rc *http.ResponseController, w http.ResponseWriter, b []byte) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := w.Write(b); err != nil {
		return false
	}
	return rc.Flush() == nil
}
