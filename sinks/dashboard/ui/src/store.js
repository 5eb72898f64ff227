// The in-memory model of the live data, fed by the event stream.
//
// Events only change the model and mark it dirty; pages repaint from it at
// most PAINT_HZ times a second, inside an animation frame, so a burst of a
// thousand quote updates costs one repaint, not a thousand.

const PAINT_HZ = 4;
const ALERTS_KEPT = 500;
const ENGINE_KEPT = 300; // engine samples (every 2 s): ten minutes of throughput

export const store = {
  /** @type {string[]} every configured symbol, in the server's order */
  symbols: [],
  /** @type {Map<string, object>} symbol → latest Quote */
  quotes: new Map(),
  /** @type {Map<string, {dir: number, at: number}>} symbol → last price move, for flashing */
  moves: new Map(),
  /** @type {object[]} newest first */
  alerts: [],
  /** @type {object|null} latest /api/engine body */
  engine: null,
  /** @type {{ts: number, rps: number}[]} */
  engineHistory: [],
  /** bumped on every snapshot, so pages can tell a reset from a delta */
  generation: 0,
};

const listeners = new Set();

// subscribe calls fn() after each repaint-worthy change (throttled) and
// returns the unsubscribe function.
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

let pending = false;
let lastPaint = 0;

// changed asks for a repaint: in the next animation frame, but no sooner
// than 1/PAINT_HZ s after the last one.
export function changed() {
  if (pending) return;
  pending = true;
  const wait = Math.max(0, 1000 / PAINT_HZ - (performance.now() - lastPaint));
  setTimeout(() => requestAnimationFrame(paint), wait);
}

function paint() {
  pending = false;
  lastPaint = performance.now();
  for (const fn of listeners) {
    try {
      fn();
    } catch (err) {
      console.error("repaint failed", err); // one broken page must not stop the others
    }
  }
}

function putQuote(q, now) {
  const old = store.quotes.get(q.symbol);
  if (old && old.price != null && q.price != null && q.price !== old.price) {
    store.moves.set(q.symbol, { dir: Math.sign(q.price - old.price), at: now });
  }
  store.quotes.set(q.symbol, q);
}

// The stream's events, by name (see /api/stream in the contract).
export const handlers = {
  snapshot(body) {
    store.symbols = body.symbols.map((q) => q.symbol);
    store.quotes = new Map();
    store.moves = new Map();
    for (const q of body.symbols) store.quotes.set(q.symbol, q);
    store.generation++;
    changed();
  },
  quotes(body) {
    const now = performance.now();
    for (const q of body.symbols) {
      if (!store.quotes.has(q.symbol)) store.symbols.push(q.symbol);
      putQuote(q, now);
    }
    changed();
  },
  alert(a) {
    addAlerts([a]);
    const q = store.quotes.get(a.symbol);
    if (q && (!q.last_alert || q.last_alert.ts <= a.ts)) {
      store.quotes.set(a.symbol, { ...q, last_alert: { kind: a.kind, ts: a.ts, rule: a.rule } });
    }
  },
  engine(body) {
    store.engine = body;
    const h = store.engineHistory;
    if (h.length && body.ts - h[h.length - 1].ts < 1000) h.pop(); // the first fetch and the first event
    store.engineHistory.push({ ts: body.ts, rps: body.records_per_s });
    if (store.engineHistory.length > ENGINE_KEPT) store.engineHistory.shift();
    changed();
  },
};

// addAlerts merges alerts (any order) into the feed, newest first, without
// duplicates: the initial /api/alerts fetch and the stream may overlap.
export function addAlerts(list) {
  const key = (a) => `${a.ts}|${a.symbol}|${a.kind}`;
  const seen = new Set(store.alerts.map(key));
  const fresh = list.filter((a) => !seen.has(key(a)));
  if (!fresh.length) return;
  store.alerts = fresh.concat(store.alerts).sort((a, b) => b.ts - a.ts).slice(0, ALERTS_KEPT);
  changed();
}
