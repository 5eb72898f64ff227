// Package poll runs a polled market-data provider (Yahoo Finance, Alpha
// Vantage) for many symbols and produces what it returns as ticks.
//
// A Provider knows one API: how to ask for a symbol and how to read the
// answer into a Snapshot (a latest quote and/or intraday bars), and how to
// classify a failure (an *Error with a feedstats.Kind). Everything else is
// here, shared by every provider:
//
//   - the plan: how often each symbol can be polled under the provider's
//     limits (Plan), said at start-up with a warning when it cannot give one
//     update per second;
//   - the schedule: symbol i of N is polled at i·P/N within each period P, so
//     requests are spread over the period instead of bursting, through one
//     rate limiter per provider and at most Concurrency requests in flight;
//   - failures: a refusal (HTTP 429, a rate-limit notice, a bad key) pauses
//     the whole provider with exponential back-off; any other failure backs
//     off only its symbol, so one bad symbol never stalls the others. Each
//     failure is counted and logged at most once per symbol per log interval,
//     with a truncated snippet of the body;
//   - turning snapshots into ticks (see Track): only what is newer than the
//     symbol's last tick, a quote identical to the last one never twice,
//     volume as shares traded since the symbol's previous tick, and ticks
//     older than StaleAfter flagged stale.
//
// It must not know any provider's URLs or formats, and it must never turn a
// failure into a tick: a Fetch that returns an error produces nothing.
package poll
