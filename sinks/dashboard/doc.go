// Package dashboard is the HTTP server of `tickstream run`: the live
// dashboard's single-page app, its JSON API, a Server-Sent Events stream of
// quotes, alerts and engine counters, /metrics and the health checks.
//
// The Hub is fed by the engine (as its engine.LiveView, once per partition
// batch) and by the alert fan-out (as an alert.Publisher); it keeps the
// latest quote, alert and prediction of each configured symbol and short
// in-memory series for the charts. One goroutine encodes each event once
// and hands the same bytes to every SSE client; a client too slow to keep
// up is disconnected rather than buffered for.
//
// Older data comes from the lake through the query package's sandbox
// (DuckDB, read-only, lake-only). The package must not block the engine
// (every engine-facing method copies and returns), must not write to the
// lake, and must not show the token: every route but /healthz and /readyz
// requires it when one is set, and a non-loopback listen address without
// one is refused.
package dashboard
