package dashboard

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tickstream/tickstream/query"
)

// The lake routes: /api/sql and /api/symbols/{symbol}/history run SQL
// through the query package, whose connection is read-only and confined to
// the lake (only single SELECTs, no file access outside the lake, no
// extensions, configuration locked). Each request opens its own connection
// over the files committed at that moment; at most two are open at once.

// queryTimeout bounds one request's queries.
const queryTimeout = 30 * time.Second

// errLakeBusy: the request ended while waiting for a connection.
var errLakeBusy = errors.New("the lake is busy with other queries; try again")

// withLake opens the lake for one request and runs fn on it. An error
// opening it is a lakeError.
func (s *Server) withLake(ctx context.Context, fn func(context.Context, *query.DB) error) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	select {
	case s.lakeSem <- struct{}{}:
		defer func() { <-s.lakeSem }()
	case <-ctx.Done():
		return lakeError{errLakeBusy}
	}
	db, err := query.Open(ctx, s.lakeURL)
	if err != nil {
		return lakeError{err}
	}
	defer db.Close()
	return fn(ctx, db)
}

// lakeError is a failure to open the lake, not of the query: 503.
type lakeError struct{ err error }

func (e lakeError) Error() string { return e.err.Error() }
func (e lakeError) Unwrap() error { return e.err }

// sqlRequest is the body of POST /api/sql.
type sqlRequest struct {
	SQL   string `json:"sql"`
	Limit *int   `json:"limit"`
}

// sqlResponse is its answer. Times are Unix ms, like everywhere else in
// the API; NaN and infinities are null.
type sqlResponse struct {
	Columns   []string `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
}

func (s *Server) sql(w http.ResponseWriter, r *http.Request) {
	// A JSON content type makes a cross-site form post impossible (the
	// browser would have to ask first, and nothing here answers CORS).
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, `send Content-Type: application/json and a body {"sql": "SELECT …", "limit": 1000}`)
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Second))
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	var req sqlRequest
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	limit := s.sqlLimit
	if req.Limit != nil {
		if *req.Limit < 1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: want 1 to %d (dashboard.sql_row_limit), got %d", s.sqlLimit, *req.Limit))
			return
		}
		limit = min(*req.Limit, s.sqlLimit)
	}
	res := sqlResponse{Columns: []string{}, Rows: [][]any{}}
	err := s.withLake(r.Context(), func(ctx context.Context, db *query.DB) error {
		c := &collect{}
		sum, err := db.Query(ctx, req.SQL, limit, c)
		res.Columns, res.Truncated = c.cols, sum.Truncated
		if c.rows != nil {
			res.Rows = c.rows
		}
		return err
	})
	if err != nil {
		var le lakeError
		if errors.As(err, &le) {
			writeError(w, http.StatusServiceUnavailable, err.Error())
		} else {
			writeError(w, http.StatusBadRequest, err.Error())
		}
		return
	}
	b, err := json.Marshal(res)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode result: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// collect is a query.Writer keeping the rows as JSON-ready values.
type collect struct {
	cols []string
	rows [][]any
}

func (c *collect) Header(cols []query.Column) error {
	c.cols = make([]string, len(cols))
	for i, col := range cols {
		c.cols[i] = col.Name
	}
	return nil
}

func (c *collect) Row(vals []driver.Value) error {
	row := make([]any, len(vals))
	for i, v := range vals {
		row[i] = jsonValue(v)
	}
	c.rows = append(c.rows, row)
	return nil
}

func (c *collect) End(bool) error { return nil }

// jsonValue turns a DuckDB value into one encoding/json writes as the API
// promises: times as Unix ms, non-finite floats as null, bytes as \x hex,
// big numbers as strings.
func jsonValue(v driver.Value) any {
	switch x := v.(type) {
	case time.Time:
		return x.UnixMilli()
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil
		}
	case []byte:
		return `\x` + hex.EncodeToString(x)
	case *big.Int:
		return x.String()
	case nil, string, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
	default:
		if _, err := json.Marshal(x); err != nil {
			return fmt.Sprint(x) // e.g. a MAP with non-string keys
		}
	}
	return v
}

// history serves GET /api/symbols/{symbol}/history?from=MS&to=MS&step=S:
// the symbol's processed ticks bucketed to step seconds (the bucket's last
// price and moving average, its total volume), its alerts and its
// predictions (each model's last value per bucket) from the lake.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	sym := r.PathValue("symbol")
	if !s.hub.known(sym) {
		writeError(w, http.StatusNotFound, "unknown symbol "+strconv.Quote(sym)+": not in config.yaml symbols")
		return
	}
	hq, msg := s.parseHistory(r)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	var b []byte
	err := s.withLake(r.Context(), func(ctx context.Context, db *query.DB) error {
		var err error
		b, err = s.queryHistory(ctx, db, sym, hq)
		return err
	})
	if err != nil {
		status := http.StatusInternalServerError
		var le lakeError
		if errors.As(err, &le) {
			status = http.StatusServiceUnavailable
		}
		writeError(w, status, "history of "+sym+": "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// historyQuery is a validated history request: [from, to) in Unix ms,
// buckets of step seconds.
type historyQuery struct {
	from, to, step int64
}

// maxDefaultPoints is what the default step aims at.
const maxDefaultPoints = 2000

// parseHistory reads from (default: to − 24 h), to (default: now) and
// step (default: the smallest whole second giving at most 2000 points,
// and at most dashboard.sql_row_limit);
// msg names the bad parameter.
func (s *Server) parseHistory(r *http.Request) (historyQuery, string) {
	q := r.URL.Query()
	ms := func(name string, def int64) (int64, string) {
		v := q.Get(name)
		if v == "" {
			return def, ""
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1<<53 {
			return 0, name + ": want Unix milliseconds, got " + strconv.Quote(v)
		}
		return n, ""
	}
	var h historyQuery
	var msg string
	if h.to, msg = ms("to", s.now().UnixMilli()); msg != "" {
		return h, msg
	}
	if h.from, msg = ms("from", max(0, h.to-dayMs)); msg != "" {
		return h, msg
	}
	if h.from >= h.to {
		return h, fmt.Sprintf("from: must be before to (from %d, to %d)", h.from, h.to)
	}
	span := h.to - h.from
	h.step = max(1, ceilDiv(span, int64(min(maxDefaultPoints, s.sqlLimit))*1000))
	if v := q.Get("step"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return h, "step: want whole seconds, at least 1, got " + strconv.Quote(v)
		}
		h.step = n
	}
	if n := ceilDiv(span, h.step*1000); n > int64(s.sqlLimit) {
		return h, fmt.Sprintf("step: %d s makes %d points from %d to %d, more than dashboard.sql_row_limit (%d); use a larger step",
			h.step, n, h.from, h.to, s.sqlLimit)
	}
	return h, ""
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// queryHistory runs the three queries and encodes the series shape. The
// symbol is a configured one, quoted anyway; the date bounds let DuckDB
// skip the other days' files.
func (s *Server) queryHistory(ctx context.Context, db *query.DB, sym string, h historyQuery) ([]byte, error) {
	stepMs := h.step * 1000
	where := fmt.Sprintf(`symbol = %s AND "date" BETWEEN '%s' AND '%s' AND epoch_ms(ts) >= %d AND epoch_ms(ts) < %d`,
		sqlString(sym), utcDate(h.from), utcDate(h.to-1), h.from, h.to)
	run := func(sql string) (*collect, error) {
		c := &collect{}
		_, err := db.Query(ctx, sql, s.sqlLimit, c)
		return c, err
	}
	points, err := run(fmt.Sprintf(`SELECT epoch_ms(ts) // %[1]d * %[1]d AS bucket, arg_max(price, ts), arg_max(ma, ts), sum(volume)
		FROM processed WHERE %[2]s GROUP BY bucket ORDER BY bucket`, stepMs, where))
	if err != nil {
		return nil, fmt.Errorf("processed: %w", err)
	}
	alerts, err := run(`SELECT epoch_ms(ts), kind, rule, observed, threshold, reference
		FROM alerts WHERE ` + where + ` ORDER BY ts, kind`)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	preds, err := run(fmt.Sprintf(`SELECT epoch_ms(ts) // %[1]d * %[1]d AS bucket, model, arg_max(value, ts)
		FROM predictions WHERE %[2]s GROUP BY bucket, model ORDER BY bucket, model`, stepMs, where))
	if err != nil {
		return nil, fmt.Errorf("predictions: %w", err)
	}

	b := make([]byte, 0, 64*(len(points.rows)+len(preds.rows))+160*len(alerts.rows)+64)
	b = append(b, `{"symbol":`...)
	b = appendString(b, sym)
	b = append(b, `,"points":[`...)
	for i, p := range points.rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"ts":`...)
		b = appendAny(b, p[0])
		b = append(b, `,"price":`...)
		b = appendAny(b, p[1])
		b = append(b, `,"ma":`...)
		b = appendAny(b, p[2])
		b = append(b, `,"volume":`...)
		b = appendAny(b, p[3])
		b = append(b, '}')
	}
	b = append(b, `],"alerts":[`...)
	for i, a := range alerts.rows {
		if i > 0 {
			b = append(b, ',')
		}
		ts, _ := a[0].(int64)
		kind, _ := a[1].(string)
		rule, _ := a[2].(string)
		b = appendAlert(b, &Alert{Symbol: sym, TS: ts, Kind: kind, Rule: rule,
			Observed: toFloat(a[3]), Threshold: toFloat(a[4]), Reference: toFloat(a[5])})
	}
	b = append(b, `],"predictions":[`...)
	for i, p := range preds.rows {
		ts, _ := p[0].(int64)
		model, _ := p[1].(string)
		b = appendPred(b, i == 0, ts, model, toFloat(p[2]), 64)
	}
	return append(b, "]}"...), nil
}

// appendAny appends a value of jsonValue's making: a number or null.
func appendAny(dst []byte, v any) []byte {
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		return appendFloat(dst, x)
	}
	return append(dst, "null"...)
}

// toFloat is v as a float64, NaN (written as null) if it is none.
func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return math.NaN()
}

func utcDate(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02") }

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
