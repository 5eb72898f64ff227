package dashboard

import (
	"fmt"
	"time"
)

// A config reload can change the symbol list while the dashboard runs.
// The hub then swaps its per-symbol state under its lock, between two of
// the engine's batches, and the broadcaster sends every client a fresh
// snapshot (the page replaces its model on a snapshot, as it does on
// reconnecting).

// SetSymbols replaces the configured symbols with symbols, in the order
// the API lists them (a config reload's list). A symbol on both lists
// keeps its quote, last alert, predictions and series; a new one is listed
// with a null price until its first tick; a removed one leaves
// /api/symbols and its series are released (the series are reallocated
// for the new list). Connected SSE clients get a snapshot event with the
// new list. The same list again changes nothing and sends nothing. A list
// with a name twice is refused and the old one stays. The alert feed
// keeps removed symbols' alerts, as it keeps those of symbols never
// configured.
func (h *Hub) SetSymbols(symbols []string) error {
	index := make(map[string]int, len(symbols))
	for i, s := range symbols {
		if _, dup := index[s]; dup {
			return fmt.Errorf("dashboard: symbol %q listed twice", s)
		}
		index[s] = i
	}
	if h.sameSymbols(symbols) {
		return nil
	}
	// Allocated before taking the lock, so the engine's batches wait only
	// for the copy (some MB for a thousand symbols, once per reload).
	syms := make([]symbol, len(symbols))
	ser := newSeries(len(symbols), h.slots)
	h.mu.Lock()
	for i, name := range symbols {
		k, ok := h.index[name]
		if !ok {
			syms[i] = symbol{name: name, sampled: -1, newest: -1}
			continue
		}
		syms[i] = h.syms[k]
		ser.copyRing(i, h.series, k)
	}
	h.index, h.syms, h.series = index, syms, ser
	h.resnap = true
	h.mu.Unlock()
	h.notify()
	return nil
}

func (h *Hub) sameSymbols(symbols []string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(symbols) != len(h.syms) {
		return false
	}
	for i := range h.syms {
		if h.syms[i].name != symbols[i] {
			return false
		}
	}
	return true
}

// known reports whether symbol is configured.
func (h *Hub) known(symbol string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.index[symbol]
	return ok
}

// snapshotEvent returns a snapshot event stamped now if the symbol list
// changed since the last call, else nil.
func (h *Hub) snapshotEvent(now time.Time) []byte {
	h.mu.Lock()
	owed := h.resnap
	h.resnap = false
	h.mu.Unlock()
	if !owed {
		return nil
	}
	return h.appendSnapshot(make([]byte, 0, 64<<10), now)
}
