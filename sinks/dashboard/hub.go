package dashboard

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/alert"
)

// HubOptions size a Hub.
type HubOptions struct {
	// Symbols are the configured symbols, in the order the API lists them
	// (SetSymbols replaces them). Quotes of other symbols are ignored
	// (their alerts are still kept).
	Symbols []string
	// History and PushInterval: each symbol keeps History/PushInterval
	// samples, one per push interval in which it had a new tick.
	History, PushInterval time.Duration
	// AlertsKept is the length of the alert feed.
	AlertsKept int
	// Models is how many models are served; each symbol's prediction
	// series keeps History/PushInterval samples of each (0: at least one,
	// sized on the first prediction).
	Models int
}

// Hub holds what the dashboard shows live: the latest quote, alert and
// prediction of each symbol, their in-memory series, the alert feed, and
// the SSE clients. The engine feeds it through Quotes and Predictions (it
// is an engine.LiveView) and the alert fan-out through Publish (it is an
// alert.Publisher); each takes the hub's lock once per call, never blocks
// on a client, and copies what it keeps.
type Hub struct {
	opts  HubOptions
	slots int

	mu       sync.Mutex
	index    map[string]int // symbol → position in syms; replaced whole by SetSymbols
	syms     []symbol
	series   *series
	models   []string // model names in order of first prediction
	modelIdx map[string]uint16
	alerts   ring[Alert]
	// pending holds encoded alert events for the broadcaster, which wake
	// tells (without blocking) that there are some.
	pending []byte
	wake    chan struct{}
	evCap   int // size of the last quotes event, to allocate the next at once
	// resnap: the symbol list changed, and the broadcaster owes every
	// client a fresh snapshot (symbols.go).
	resnap bool

	cmu     sync.Mutex
	clients map[*client]struct{}
	stopped bool // no new clients: the server is shutting down
}

var (
	_ engine.LiveView = (*Hub)(nil)
	_ alert.Publisher = (*Hub)(nil)
)

// symbol is one symbol's live state.
type symbol struct {
	name                        string
	has                         bool // a tick has arrived
	ts                          int64
	price, volume, bid, ask, ma float64
	// day is the UTC day (Unix days) of the first price, the reference of
	// change and change_pct.
	day     int64
	first   float64
	changed bool  // since the last quotes event
	sampled int64 // ts of the newest series point; -1: none
	alert   alertRef
	preds   []predLatest // by model index
	newest  int          // model index of the newest prediction; -1: none
	ring    *ring[predPoint]
}

type alertRef struct {
	has        bool
	ts         int64
	kind, rule string
}

type predLatest struct {
	has, sampled bool
	ts           int64
	value        float64
	horizon      string
}

// Alert is one alert as the API shows it.
type Alert struct {
	Symbol                         string
	TS                             int64
	Kind, Rule                     string
	Observed, Threshold, Reference float64
}

// NewHub returns an empty hub with its series allocated.
func NewHub(o HubOptions) (*Hub, error) {
	if o.PushInterval <= 0 || o.History < o.PushInterval || o.AlertsKept < 1 {
		return nil, fmt.Errorf("dashboard: history %s, push interval %s and alerts kept %d: want 0 < push interval ≤ history and at least one alert",
			o.History, o.PushInterval, o.AlertsKept)
	}
	h := &Hub{
		opts:     o,
		slots:    int(o.History / o.PushInterval),
		index:    make(map[string]int, len(o.Symbols)),
		syms:     make([]symbol, len(o.Symbols)),
		modelIdx: map[string]uint16{},
		alerts:   newRing[Alert](o.AlertsKept),
		wake:     make(chan struct{}, 1),
		clients:  map[*client]struct{}{},
	}
	for i, s := range o.Symbols {
		if _, dup := h.index[s]; dup {
			return nil, fmt.Errorf("dashboard: symbol %q listed twice", s)
		}
		h.index[s] = i
		h.syms[i] = symbol{name: s, sampled: -1, newest: -1}
	}
	h.series = newSeries(len(o.Symbols), h.slots)
	return h, nil
}

// SeriesBytes is the memory the price series take (fixed for a symbol
// list: NewHub's, then each SetSymbols'); the prediction series add 16
// bytes a sample per model for each symbol that gets predictions.
func (h *Hub) SeriesBytes() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.series.bytes()
}

const dayMs = 86_400_000

// Quotes records each symbol's latest tick (engine.LiveView).
func (h *Hub) Quotes(_ int32, qs []engine.Quote) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range qs {
		q := &qs[i]
		k, ok := h.index[q.Symbol]
		if !ok {
			continue
		}
		s := &h.syms[k]
		if s.has && q.TS < s.ts {
			continue // a late tick the engine accepted: not the latest
		}
		if day := floorDiv(q.TS, dayMs); !s.has || day != s.day {
			s.day, s.first = day, q.Price
		}
		s.has, s.ts = true, q.TS
		s.price, s.volume, s.bid, s.ask, s.ma = q.Price, q.Volume, q.Bid, q.Ask, q.MA
		s.changed = true
	}
}

// Predictions records each symbol's latest prediction of each model
// (engine.LiveView).
func (h *Hub) Predictions(_ int32, rows []models.PredictionRow) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range rows {
		r := &rows[i]
		k, ok := h.index[r.Symbol]
		if !ok {
			continue
		}
		m, ok := h.modelIdx[r.Model]
		if !ok {
			m = uint16(len(h.models))
			h.models = append(h.models, r.Model)
			h.modelIdx[r.Model] = m
		}
		s := &h.syms[k]
		for int(m) >= len(s.preds) {
			s.preds = append(s.preds, predLatest{})
		}
		p := &s.preds[m]
		if p.has && r.TS < p.ts {
			continue
		}
		*p = predLatest{has: true, ts: r.TS, value: r.Value, horizon: r.Horizon}
		s.newest = int(m)
		s.changed = true
	}
}

// Publish adds an alert to the feed and to its symbol, and queues its SSE
// event (alert.Publisher).
func (h *Hub) Publish(a *operators.Alert, _ int32, _ int64) {
	al := Alert{Symbol: a.Symbol, TS: a.TS, Kind: a.Kind.String(), Rule: a.Rule,
		Observed: a.Observed, Threshold: a.Threshold, Reference: a.Reference}
	h.mu.Lock()
	h.alerts.add(al)
	if k, ok := h.index[a.Symbol]; ok {
		s := &h.syms[k]
		if !s.alert.has || al.TS >= s.alert.ts {
			s.alert = alertRef{has: true, ts: al.TS, kind: al.Kind, rule: al.Rule}
			s.changed = true
		}
	}
	h.pending = append(h.pending, "event: alert\ndata: "...)
	h.pending = appendAlert(h.pending, &al)
	h.pending = append(h.pending, "\n\n"...)
	h.mu.Unlock()
	h.notify()
}

// notify tells the broadcaster, without blocking, that there are alert
// events or a snapshot to send.
func (h *Hub) notify() {
	select {
	case h.wake <- struct{}{}:
	default: // the broadcaster is already told
	}
}

// takeAlerts returns the alert events queued since the last call, nil if
// none; the bytes are the caller's.
func (h *Hub) takeAlerts() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.pending
	h.pending = nil
	return b
}

// quotesEvent samples the series of the symbols that changed since the
// last call and returns their quotes as one SSE event, or nil if none did.
// now stamps the event. It runs once per push interval.
func (h *Hub) quotesEvent(now time.Time) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b []byte
	for k := range h.syms {
		s := &h.syms[k]
		if !s.changed {
			continue
		}
		s.changed = false
		h.sample(k)
		if b == nil {
			b = make([]byte, 0, max(h.evCap, 4096))
			b = append(b, "event: quotes\ndata: {\"ts\":"...)
			b = strconv.AppendInt(b, now.UnixMilli(), 10)
			b = append(b, `,"symbols":[`...)
		} else {
			b = append(b, ',')
		}
		b = h.appendQuote(b, s)
	}
	if b == nil {
		return nil
	}
	b = append(b, "]}\n\n"...)
	h.evCap = len(b) + len(b)/8
	return b
}

// sample appends symbol k's newest tick and predictions to its series if
// they are new since the last sample.
func (h *Hub) sample(k int) {
	s := &h.syms[k]
	if s.has && s.ts > s.sampled {
		h.series.add(k, s.ts, s.price, s.ma, s.volume)
		s.sampled = s.ts
	}
	for m := range s.preds {
		p := &s.preds[m]
		if !p.has || p.sampled {
			continue
		}
		if s.ring == nil {
			r := newRing[predPoint](h.slots * max(1, h.opts.Models, len(h.models)))
			s.ring = &r
		}
		s.ring.add(predPoint{ts: p.ts, value: float32(p.value), model: uint16(m)})
		p.sampled = true
	}
}

// appendSnapshot appends the SSE snapshot event: the /api/symbols body.
func (h *Hub) appendSnapshot(dst []byte, now time.Time) []byte {
	dst = append(dst, "event: snapshot\ndata: "...)
	dst = h.appendSymbols(dst, now)
	return append(dst, "\n\n"...)
}

// appendSymbols appends the /api/symbols body: every symbol's quote.
func (h *Hub) appendSymbols(dst []byte, now time.Time) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	dst = append(dst, `{"ts":`...)
	dst = strconv.AppendInt(dst, now.UnixMilli(), 10)
	dst = append(dst, `,"symbols":[`...)
	for k := range h.syms {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = h.appendQuote(dst, &h.syms[k])
	}
	return append(dst, "]}"...)
}

// appendQuote appends a symbol's Quote object; h.mu is held.
func (h *Hub) appendQuote(dst []byte, s *symbol) []byte {
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, s.name)
	dst = append(dst, `,"ts":`...)
	if s.has {
		dst = strconv.AppendInt(dst, s.ts, 10)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"price":`...)
	dst = appendOptFloat(dst, s.price, s.has)
	hasChange := s.has && s.first != 0
	dst = append(dst, `,"change":`...)
	dst = appendOptFloat(dst, s.price-s.first, hasChange)
	dst = append(dst, `,"change_pct":`...)
	dst = appendOptFloat(dst, (s.price-s.first)/s.first*100, hasChange)
	dst = append(dst, `,"ma":`...)
	dst = appendOptFloat(dst, s.ma, s.has)
	dst = append(dst, `,"volume":`...)
	dst = appendOptFloat(dst, s.volume, s.has)
	// The lake stores a bid or ask of 0 as NULL (not sent); so does the API.
	dst = append(dst, `,"bid":`...)
	dst = appendOptFloat(dst, s.bid, s.has && s.bid != 0)
	dst = append(dst, `,"ask":`...)
	dst = appendOptFloat(dst, s.ask, s.has && s.ask != 0)
	dst = append(dst, `,"last_alert":`...)
	if a := &s.alert; a.has {
		dst = append(dst, `{"kind":`...)
		dst = appendString(dst, a.kind)
		dst = append(dst, `,"ts":`...)
		dst = strconv.AppendInt(dst, a.ts, 10)
		dst = append(dst, `,"rule":`...)
		dst = appendString(dst, a.rule)
		dst = append(dst, '}')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"prediction":`...)
	if s.newest >= 0 {
		p := &s.preds[s.newest]
		dst = append(dst, `{"model":`...)
		dst = appendString(dst, h.models[s.newest])
		dst = append(dst, `,"value":`...)
		dst = appendFloat(dst, p.value)
		dst = append(dst, `,"ts":`...)
		dst = strconv.AppendInt(dst, p.ts, 10)
		dst = append(dst, `,"horizon":`...)
		dst = appendString(dst, p.horizon)
		dst = append(dst, '}')
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, '}')
}

// appendSeries appends the /api/symbols/{symbol}/series body; false when
// the symbol is not configured.
func (h *Hub) appendSeries(dst []byte, name string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k, ok := h.index[name]
	if !ok {
		return dst, false
	}
	s := &h.syms[k]
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, name)
	dst = append(dst, `,"points":[`...)
	first := true
	h.series.each(k, func(ts int64, price, ma, volume float32) {
		dst = appendPoint(dst, first, ts, price, ma, volume)
		first = false
	})
	dst = append(dst, `],"alerts":[`...)
	first = true
	h.alerts.oldestFirst(func(a *Alert) {
		if a.Symbol != name {
			return
		}
		if !first {
			dst = append(dst, ',')
		}
		dst = appendAlert(dst, a)
		first = false
	})
	dst = append(dst, `],"predictions":[`...)
	if s.ring != nil {
		first = true
		s.ring.oldestFirst(func(p *predPoint) {
			dst = appendPred(dst, first, p.ts, h.models[p.model], float64(p.value), 32)
			first = false
		})
	}
	return append(dst, "]}"...), true
}

func appendPoint(dst []byte, first bool, ts int64, price, ma, volume float32) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, `{"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"price":`...)
	dst = appendFloat32(dst, price)
	dst = append(dst, `,"ma":`...)
	dst = appendFloat32(dst, ma)
	dst = append(dst, `,"volume":`...)
	dst = appendFloat32(dst, volume)
	return append(dst, '}')
}

func appendPred(dst []byte, first bool, ts int64, model string, value float64, bits int) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, `{"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"model":`...)
	dst = appendString(dst, model)
	dst = append(dst, `,"value":`...)
	dst = appendFloatBits(dst, value, bits)
	return append(dst, '}')
}

// appendAlerts appends the /api/alerts body: at most limit alerts, newest
// first.
func (h *Hub) appendAlerts(dst []byte, limit int) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	dst = append(dst, `{"alerts":[`...)
	n := 0
	h.alerts.newestFirst(func(a *Alert) bool {
		if n == limit {
			return false
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = appendAlert(dst, a)
		n++
		return true
	})
	return append(dst, "]}"...)
}

func appendAlert(dst []byte, a *Alert) []byte {
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, a.Symbol)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, a.TS, 10)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, a.Kind)
	dst = append(dst, `,"rule":`...)
	dst = appendString(dst, a.Rule)
	dst = append(dst, `,"observed":`...)
	dst = appendFloat(dst, a.Observed)
	dst = append(dst, `,"threshold":`...)
	dst = appendFloat(dst, a.Threshold)
	dst = append(dst, `,"reference":`...)
	dst = appendFloat(dst, a.Reference)
	return append(dst, '}')
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
