package dashboard

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tickstream/tickstream/tick"
)

// The JSON routes over live state. Bodies are appended by hand (encode.go)
// in the contract's field order.

func (s *Server) symbols(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.hub.appendSymbols(make([]byte, 0, 64<<10), s.now()))
}

func (s *Server) series(w http.ResponseWriter, r *http.Request) {
	sym := r.PathValue("symbol")
	b, ok := s.hub.appendSeries(make([]byte, 0, 64<<10), sym)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown symbol "+strconv.Quote(sym)+": not in config.yaml symbols")
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	kept := s.hub.opts.AlertsKept
	limit := kept
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit: want a whole number from 1 to "+strconv.Itoa(kept)+", got "+strconv.Quote(v))
			return
		}
		limit = min(n, kept)
	}
	writeJSON(w, http.StatusOK, s.hub.appendAlerts(make([]byte, 0, 256*limit), limit))
}

func (s *Server) engine(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.appendEngine(make([]byte, 0, 1024), s.now()))
}

// readyz runs every check; 503 if one fails, with its reason.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	ready := true
	checks := make([]byte, 0, 256)
	for i, c := range s.checks {
		checks = appendKey(checks, c.Name, i == 0)
		if err := c.Run(); err != nil {
			ready = false
			checks = appendString(checks, err.Error())
		} else {
			checks = append(checks, `"ok"`...)
		}
	}
	b := strconv.AppendBool([]byte(`{"ready":`), ready)
	b = append(b, `,"checks":{`...)
	b = append(append(b, checks...), "}}"...)
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, b)
}

// sampleEngine takes a sample of the records counter, for records_per_s
// (the rate between the last two samples, 2 s apart).
func (s *Server) sampleEngine(now time.Time) {
	if s.stats == nil {
		return
	}
	recs := s.stats.Records.Load()
	s.engMu.Lock()
	defer s.engMu.Unlock()
	if dt := now.Sub(s.engAt).Seconds(); !s.engAt.IsZero() && dt > 0 {
		s.rate, s.hasRate = float64(recs-s.engRecs)/dt, true
	}
	s.engAt, s.engRecs = now, recs
}

// appendEngine appends the /api/engine body.
func (s *Server) appendEngine(dst []byte, now time.Time) []byte {
	st := s.stats
	load := func(f func() int64) int64 {
		if st == nil {
			return 0
		}
		return f()
	}
	num := func(name string, v int64) {
		dst = appendKey(dst, name, false)
		dst = strconv.AppendInt(dst, v, 10)
	}
	dst = append(dst, `{"ts":`...)
	dst = strconv.AppendInt(dst, now.UnixMilli(), 10)
	num("uptime_s", int64(now.Sub(s.started)/time.Second))
	num("records_total", load(func() int64 { return st.Records.Load() }))
	num("accepted_total", load(func() int64 { return st.Accepted.Load() }))
	s.engMu.Lock()
	rate, hasRate := s.rate, s.hasRate
	s.engMu.Unlock()
	dst = appendKey(dst, "records_per_s", false)
	dst = appendOptFloat(dst, rate, hasRate)
	num("dead_lettered_total", load(func() int64 { return st.DeadLettered.Load() }))
	dst = append(dst, `,"rejected":{`...)
	first := true
	if st != nil {
		for _, r := range tick.Reasons() {
			if n := st.RejectedBy(r); n > 0 {
				dst = appendKey(dst, r.String(), first)
				dst = strconv.AppendInt(dst, n, 10)
				first = false
			}
		}
	}
	dst = append(dst, '}')
	num("alerts_total", load(func() int64 { return st.Alerts.Load() }))
	num("predictions_total", load(func() int64 { return st.Predictions.Load() }))
	dst = append(dst, `,"partitions":[`...)
	if s.parts != nil {
		for i, p := range s.parts() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"partition":`...)
			dst = strconv.AppendInt(dst, int64(p.Partition), 10)
			dst = append(dst, `,"lag":`...)
			dst = appendOptInt(dst, p.Lag(), p.Lag() >= 0)
			dst = append(dst, `,"next_offset":`...)
			dst = appendOptInt(dst, p.NextOffset, p.NextOffset >= 0)
			dst = append(dst, '}')
		}
	}
	dst = append(dst, ']')
	last := load(func() int64 { return st.LastFlushMs.Load() })
	dst = appendKey(dst, "last_flush_ts", false)
	dst = appendOptInt(dst, last, last > 0)
	num("flushes_total", load(func() int64 { return st.Flushes.Load() }))
	num("flush_errors_total", load(func() int64 { return st.FlushErrors.Load() }))
	num("bytes_written_total", load(func() int64 { return st.BytesWritten.Load() }))
	dst = append(dst, `,"models":[`...)
	if s.models != nil {
		for i, m := range s.models() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"name":`...)
			dst = appendString(dst, m.Name)
			dst = append(dst, `,"kind":`...)
			dst = appendString(dst, m.Kind)
			dst = append(dst, `,"version":`...)
			dst = appendString(dst, m.Version)
			dst = append(dst, '}')
		}
	}
	return append(dst, "]}"...)
}

func appendOptInt(dst []byte, v int64, ok bool) []byte {
	if !ok {
		return append(dst, "null"...)
	}
	return strconv.AppendInt(dst, v, 10)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	b := append([]byte(`{"error":`), appendString(nil, msg)...)
	writeJSON(w, status, append(b, '}'))
}
