// Engine (#/engine): throughput, lag per partition, dead letters, lake
// flushes and the models being served, from the `engine` event (every 2 s).
import uPlot from "uplot";
import { store, subscribe } from "../store.js";
import { notePaint } from "../perf.js";
import { el, timeAxis, fmtAgo, fmtBytes, fmtDuration, fmtInt, DASH } from "../format.js";

function card(label, id) {
  const c = el("div", "card");
  const v = el("b", null, DASH);
  v.id = id;
  const sub = el("small", "muted", "");
  c.append(el("span", "label", label), v, sub);
  return { c, v, sub };
}

function table(cls, headers) {
  const t = el("table", `list ${cls}`);
  const thead = el("thead");
  const tr = el("tr");
  for (const [h, num] of headers) tr.append(el("th", num ? "num" : "", h));
  thead.append(tr);
  const tbody = el("tbody");
  t.append(thead, tbody);
  return { t, tbody };
}

function rows(tbody, list, cells, empty) {
  const trs = list.map((x) => {
    const tr = el("tr");
    for (const [text, cls] of cells(x)) tr.append(el("td", cls ?? "", text));
    return tr;
  });
  if (!trs.length) {
    const tr = el("tr", "empty");
    tr.append(el("td", "muted", empty));
    trs.push(tr);
  }
  tbody.replaceChildren(...trs);
}

export function mount(root) {
  const cards = {
    rate: card("records / s", "eng-rate"),
    records: card("records", "eng-records"),
    dlq: card("dead-lettered", "eng-dlq"),
    lag: card("total lag", "eng-lag"),
    flush: card("last flush", "eng-flush"),
    alerts: card("alerts", "eng-alerts"),
    predictions: card("predictions", "eng-predictions"),
    uptime: card("uptime", "eng-uptime"),
  };
  const grid = el("div", "cards");
  for (const { c } of Object.values(cards)) grid.append(c);

  const chartBox = el("div", "chart");
  chartBox.id = "rate-chart";
  const parts = table("partitions", [["partition"], ["lag", true], ["next offset", true]]);
  parts.tbody.id = "eng-partitions";
  const rejected = table("rejected", [["reason"], ["records", true]]);
  const models = table("models", [["model"], ["kind"], ["version"]]);
  const cols = el("div", "columns");
  const col = (title, ...children) => {
    const d = el("div");
    d.append(el("h2", null, title), ...children);
    return d;
  };
  cols.append(col("Partitions", parts.t), col("Rejected, by reason", rejected.t), col("Models", models.t));
  root.append(grid, el("h2", null, "Throughput"), chartBox, cols);

  const css = getComputedStyle(document.documentElement);
  const fg = css.getPropertyValue("--muted").trim() || "#888";
  const gridColor = css.getPropertyValue("--grid").trim() || "rgba(128,128,128,0.15)";
  const axis = { stroke: fg, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } };
  const chart = new uPlot(
    {
      width: Math.max(300, chartBox.clientWidth),
      height: 180,
      ms: 1,
      padding: [12, 28, 0, 0],
      tzDate: (ts) => uPlot.tzDate(new Date(ts), "Etc/UTC"),
      legend: { show: false },
      series: [{}, { label: "records/s", stroke: "#2f7de1", fill: "rgba(47,125,225,0.12)", width: 1.5, points: { show: false } }],
      axes: [{ ...axis, values: timeAxis, space: 90, size: 36 }, { ...axis, size: 60, values: (u, vs) => vs.map(fmtInt) }],
    },
    [[], []],
    chartBox,
  );
  const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(300, chartBox.clientWidth), height: 180 }));
  resize.observe(chartBox);

  let shown = null; // the engine body on screen; quotes also trigger repaints
  function paint() {
    const t0 = performance.now();
    const e = store.engine;
    if (!e || e === shown) return;
    shown = e;
    const lag = (e.partitions ?? []).reduce((s, p) => s + (p.lag ?? 0), 0);
    cards.rate.v.textContent = fmtInt(e.records_per_s);
    cards.records.v.textContent = fmtInt(e.records_total);
    cards.records.sub.textContent = `${fmtInt(e.accepted_total)} accepted`;
    cards.dlq.v.textContent = fmtInt(e.dead_lettered_total);
    cards.dlq.c.classList.toggle("bad", e.dead_lettered_total > 0);
    cards.lag.v.textContent = fmtInt(lag);
    cards.lag.sub.textContent = `${(e.partitions ?? []).length} partitions`;
    cards.flush.v.textContent = e.last_flush_ts ? fmtAgo(e.last_flush_ts) : "never";
    cards.flush.sub.textContent = `${fmtInt(e.flushes_total)} flushes · ${fmtBytes(e.bytes_written_total)} · ${fmtInt(e.flush_errors_total)} errors`;
    cards.flush.c.classList.toggle("bad", e.flush_errors_total > 0);
    cards.alerts.v.textContent = fmtInt(e.alerts_total);
    cards.predictions.v.textContent = fmtInt(e.predictions_total);
    cards.uptime.v.textContent = fmtDuration(e.uptime_s);

    rows(parts.tbody, e.partitions ?? [], (p) => [[String(p.partition)], [fmtInt(p.lag), "num"], [fmtInt(p.next_offset), "num"]], "no partition assigned");
    const reasons = Object.entries(e.rejected ?? {}).sort((a, b) => b[1] - a[1]);
    rows(rejected.tbody, reasons, ([r, n]) => [[r], [fmtInt(n), "num"]], "nothing rejected");
    rows(models.tbody, e.models ?? [], (m) => [[m.name], [m.kind], [String(m.version), "mono"]], "no model served");

    const h = store.engineHistory;
    chart.setData([h.map((s) => s.ts), h.map((s) => s.rps)]);
    notePaint(performance.now() - t0);
  }

  paint();
  const unsubscribe = subscribe(paint);
  return () => {
    unsubscribe();
    resize.disconnect();
    chart.destroy();
  };
}
