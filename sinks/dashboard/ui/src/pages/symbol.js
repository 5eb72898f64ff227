// Symbol page (#/symbol/AAPL): price, moving average, anomalies and
// predictions on one chart, volume below it on a second chart that shares
// the cursor. It opens with the server's in-memory series, follows the
// stream live, and "Load history" prepends older data from the lake.
import uPlot from "uplot";
import { getJSON } from "../api.js";
import { store, subscribe } from "../store.js";
import { notePaint } from "../perf.js";
import { el, priceAxis, timeAxis, fmtCompact, fmtDateTime, fmtPct, fmtPrice, fmtSigned, kindLabel, signClass } from "../format.js";

const MAX_POINTS = 20_000; // beyond this the oldest points are dropped
const PRICE_H = 340;
const VOLUME_H = 130;

// Series colours: readable on both the light and the dark background.
const COLORS = {
  price: "#2f7de1",
  ma: "#e8a317",
  anomaly: "#e5484d",
  volume: "rgba(120, 130, 150, 0.55)",
  predictions: ["#9b5de5", "#12a594", "#d6409f", "#6e56cf"],
};

const RANGES = [
  ["1h", 3600e3],
  ["6h", 6 * 3600e3],
  ["24h", 24 * 3600e3],
  ["7d", 7 * 86400e3],
];

export function mount(root, sym) {
  const title = el("h1", null, sym);
  const stats = el("div", "stats");
  const head = el("div", "sym-head");
  head.append(title, stats);

  const range = el("select");
  range.setAttribute("aria-label", "History range");
  for (const [label, ms] of RANGES) {
    const o = el("option", null, `last ${label}`);
    o.value = String(ms);
    range.append(o);
  }
  const load = el("button", "btn", "Load history");
  load.id = "load-history";
  const status = el("span", "status muted", "");
  status.id = "history-status";
  const back = el("a", "muted", "← all symbols");
  back.href = "#/";
  const toolbar = el("div", "toolbar");
  toolbar.append(back, range, load, status);

  const priceBox = el("div", "chart");
  priceBox.id = "price-chart";
  const volumeBox = el("div", "chart chart-volume");
  volumeBox.id = "volume-chart";
  const alertsTitle = el("h2", null, "Anomalies");
  const alertsTable = el("table", "list");
  root.append(head, toolbar, priceBox, volumeBox, alertsTitle, alertsTable);

  // The symbol's data, oldest first. Points from history and from the
  // server's memory are merged by timestamp.
  let points = [];
  let alerts = [];
  let predictions = [];
  let models = [];
  let price = null;
  let volume = null;
  let lastQuoteTs = 0;

  const css = getComputedStyle(document.documentElement);
  const fg = css.getPropertyValue("--muted").trim() || "#888";
  const grid = css.getPropertyValue("--grid").trim() || "rgba(128,128,128,0.15)";
  const axis = (extra = {}) => ({ stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, ...extra });
  const base = () => ({
    width: Math.max(300, priceBox.clientWidth),
    ms: 1,
    padding: [12, 28, 0, 0], // room for the last time label
    tzDate: (ts) => uPlot.tzDate(new Date(ts), "Etc/UTC"),
    cursor: { sync: { key: `sym-${sym}` } },
  });

  function build() {
    price?.destroy();
    volume?.destroy();
    price = new uPlot(
      {
        ...base(),
        height: PRICE_H,
        series: [
          {},
          { label: "price", stroke: COLORS.price, width: 1.5, spanGaps: true, value: (u, v) => fmtPrice(v) },
          { label: "MA", stroke: COLORS.ma, width: 1.5, spanGaps: true, value: (u, v) => fmtPrice(v) },
          {
            label: "anomaly",
            stroke: COLORS.anomaly,
            fill: COLORS.anomaly,
            paths: () => null,
            points: { show: true, size: 10, space: 0, fill: COLORS.anomaly, stroke: COLORS.anomaly },
            value: (u, v) => fmtPrice(v),
          },
          ...models.map((m, i) => ({
            label: `prediction ${m}`,
            stroke: COLORS.predictions[i % COLORS.predictions.length],
            dash: [6, 4],
            spanGaps: true,
            points: { show: true, size: 4, space: 0 },
            value: (u, v) => fmtPrice(v),
          })),
        ],
        axes: [axis({ values: timeAxis, space: 90, size: 36 }), axis({ size: 70, values: priceAxis })],
      },
      data().price,
      priceBox,
    );
    volume = new uPlot(
      {
        ...base(),
        height: VOLUME_H,
        legend: { show: false },
        scales: { y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } }, // bars stand on zero
        series: [
          {},
          { label: "volume", fill: COLORS.volume, stroke: COLORS.volume, paths: uPlot.paths.bars({ size: [0.8, 8] }), points: { show: false } },
        ],
        axes: [axis({ values: timeAxis, space: 90, size: 36 }), axis({ size: 70, values: (u, vs) => vs.map(fmtCompact) })],
      },
      data().volume,
      volumeBox,
    );
  }

  // data aligns everything on one time axis, as uPlot wants: a column per
  // series, null where a series has no value at that time.
  function data() {
    const xs = [...new Set([...points.map((p) => p.ts), ...alerts.map((a) => a.ts), ...predictions.map((p) => p.ts)])].sort(
      (a, b) => a - b,
    );
    const at = new Map(xs.map((x, i) => [x, i]));
    const col = () => new Array(xs.length).fill(null);
    const [pr, ma, vol, anom] = [col(), col(), col(), col()];
    const preds = models.map(col);
    for (const p of points) {
      const i = at.get(p.ts);
      pr[i] = p.price;
      ma[i] = p.ma;
      vol[i] = p.volume;
    }
    // An anomaly sits on the price line: its own price for a drop, the
    // latest price at or before it otherwise.
    let j = 0;
    let lastPrice = null;
    for (const a of alerts) {
      while (j < points.length && points[j].ts <= a.ts) lastPrice = points[j++].price;
      anom[at.get(a.ts)] = a.kind === "price_drop" ? a.observed : (lastPrice ?? a.observed);
    }
    for (const p of predictions) preds[models.indexOf(p.model)][at.get(p.ts)] = p.value;
    return { price: [xs, pr, ma, anom, ...preds], volume: [xs, vol] };
  }

  function addPoints(list) {
    const byTs = new Map(points.map((p) => [p.ts, p]));
    for (const p of list) byTs.set(p.ts, p);
    points = [...byTs.values()].sort((a, b) => a.ts - b.ts).slice(-MAX_POINTS);
  }

  function addAlerts(list) {
    const key = (a) => `${a.ts}|${a.kind}`;
    const byKey = new Map(alerts.map((a) => [key(a), a]));
    for (const a of list) byKey.set(key(a), a);
    alerts = [...byKey.values()].sort((a, b) => a.ts - b.ts);
  }

  // addPredictions reports whether a new model appeared (the chart then
  // needs a new series, so it is rebuilt).
  function addPredictions(list) {
    const key = (p) => `${p.ts}|${p.model}`;
    const byKey = new Map(predictions.map((p) => [key(p), p]));
    for (const p of list) byKey.set(key(p), p);
    predictions = [...byKey.values()].sort((a, b) => a.ts - b.ts).slice(-MAX_POINTS);
    const before = models.length;
    models = [...new Set(predictions.map((p) => p.model))].sort();
    return models.length !== before;
  }

  function paintStats() {
    const q = store.quotes.get(sym);
    stats.replaceChildren();
    if (!q) return;
    const stat = (label, text, cls = "") => {
      const s = el("span", `stat ${cls}`);
      s.append(el("small", null, label), el("b", null, text));
      stats.append(s);
    };
    stat("price", fmtPrice(q.price));
    stat("change", `${fmtSigned(q.change)} (${fmtPct(q.change_pct)})`, signClass(q.change));
    stat("MA", fmtPrice(q.ma));
    stat("volume", fmtCompact(q.volume));
    if (q.prediction) stat(`prediction ${q.prediction.model} ${q.prediction.horizon ?? ""}`.trim(), fmtPrice(q.prediction.value));
  }

  function paintAlerts() {
    const rows = alerts
      .slice(-50)
      .reverse()
      .map((a) => {
        const tr = el("tr");
        tr.append(el("td", "mono", fmtDateTime(a.ts)), el("td", `kind ${a.kind}`, kindLabel(a.kind)), el("td", "muted", a.rule));
        tr.append(el("td", "num", a.kind === "volume_spike" ? fmtCompact(a.observed) : fmtPrice(a.observed)));
        return tr;
      });
    if (!rows.length) {
      const empty = el("tr", "empty");
      empty.append(el("td", "muted", "No anomaly for this symbol yet."));
      rows.push(empty);
    }
    alertsTable.replaceChildren(...rows);
  }

  let lastAlertTs = 0;

  // follow takes what the stream brought since the last repaint.
  function follow() {
    const t0 = performance.now();
    let grew = false;
    let rebuild = false;
    const q = store.quotes.get(sym);
    if (q && q.ts > lastQuoteTs && q.price != null) {
      lastQuoteTs = q.ts;
      addPoints([{ ts: q.ts, price: q.price, ma: q.ma, volume: q.volume }]);
      if (q.prediction) rebuild = addPredictions([{ ts: q.prediction.ts, model: q.prediction.model, value: q.prediction.value }]);
      grew = true;
      paintStats();
    }
    const fresh = store.alerts.filter((a) => a.symbol === sym && a.ts > lastAlertTs);
    if (fresh.length) {
      lastAlertTs = Math.max(lastAlertTs, ...fresh.map((a) => a.ts));
      addAlerts(fresh);
      paintAlerts();
      grew = true;
    }
    if (!grew) return; // other symbols changed: nothing to draw here
    redraw(rebuild);
    notePaint(performance.now() - t0);
  }

  function redraw(rebuild) {
    if (rebuild || !price) return build();
    const d = data();
    price.setData(d.price);
    volume.setData(d.volume);
  }

  // The chart reports what it shows, for people (the legend) and the test.
  function noteCounts() {
    priceBox.dataset.points = String(points.length);
    priceBox.dataset.alerts = String(alerts.length);
  }

  load.addEventListener("click", async () => {
    const to = points.length ? points[0].ts : Date.now();
    const from = to - Number(range.value);
    status.dataset.state = "loading";
    status.textContent = "loading from the lake…";
    load.disabled = true;
    try {
      const h = await getJSON(`api/symbols/${encodeURIComponent(sym)}/history?from=${from}&to=${to}`);
      addPoints(h.points ?? []);
      addAlerts(h.alerts ?? []);
      const rebuild = addPredictions(h.predictions ?? []);
      redraw(rebuild);
      paintAlerts();
      noteCounts();
      status.dataset.state = "ok";
      status.dataset.points = String((h.points ?? []).length);
      status.textContent = `${(h.points ?? []).length} points and ${(h.alerts ?? []).length} anomalies from the lake`;
    } catch (err) {
      status.dataset.state = "error";
      status.textContent = `history failed: ${err.message}`;
    } finally {
      load.disabled = false;
    }
  });

  let unsubscribe = () => {};
  const resize = new ResizeObserver(() => {
    const w = Math.max(300, priceBox.clientWidth);
    price?.setSize({ width: w, height: PRICE_H });
    volume?.setSize({ width: w, height: VOLUME_H });
  });
  let alive = true;

  (async () => {
    try {
      const s = await getJSON(`api/symbols/${encodeURIComponent(sym)}/series`);
      if (!alive) return;
      addPoints(s.points ?? []);
      addAlerts(s.alerts ?? []);
      addPredictions(s.predictions ?? []);
      lastQuoteTs = points.length ? points[points.length - 1].ts : 0;
      lastAlertTs = alerts.length ? alerts[alerts.length - 1].ts : 0;
    } catch (err) {
      if (!alive) return;
      status.dataset.state = "error";
      status.textContent = err.status === 404 ? `${sym} is not a configured symbol` : `series failed: ${err.message}`;
      if (err.status === 404) return;
    }
    build();
    paintStats();
    paintAlerts();
    noteCounts();
    resize.observe(priceBox);
    unsubscribe = subscribe(() => {
      follow();
      noteCounts();
    });
  })();

  return () => {
    alive = false;
    unsubscribe();
    resize.disconnect();
    price?.destroy();
    volume?.destroy();
  };
}
