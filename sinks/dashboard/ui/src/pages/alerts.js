// Alerts (#/alerts): the feed of anomalies, newest first, live. Rows are
// keyed by alert, so a repaint only creates rows for new alerts (which
// flash once) and moves the rest.
import { store, subscribe } from "../store.js";
import { notePaint } from "../perf.js";
import { el, fmtAgo, fmtCompact, fmtDateTime, fmtPrice, kindLabel } from "../format.js";

const key = (a) => `${a.ts}|${a.symbol}|${a.kind}`;

// The observed value, threshold and reference are volumes for a spike and
// prices for a drop.
function fmtValue(a, v) {
  return a.kind === "volume_spike" ? fmtCompact(v) : fmtPrice(v);
}

function row(a, fresh) {
  const tr = el("tr", fresh ? "fresh" : "");
  tr.dataset.symbol = a.symbol;
  tr.dataset.kind = a.kind;
  tr.dataset.ts = String(a.ts);
  const sym = el("a", null, a.symbol);
  sym.href = `#/symbol/${encodeURIComponent(a.symbol)}`;
  const symCell = el("td", "sym");
  symCell.append(sym);
  const ago = el("td", "muted ago");
  tr.append(
    el("td", "mono", fmtDateTime(a.ts)),
    ago,
    symCell,
    el("td", `kind ${a.kind}`, kindLabel(a.kind)),
    el("td", "muted", a.rule),
    el("td", "num", fmtValue(a, a.observed)),
    el("td", "num", fmtValue(a, a.threshold)),
    el("td", "num", fmtValue(a, a.reference)),
  );
  return tr;
}

// place makes parent's children exactly trs while moving as few rows as it
// can: usually new alerts go on top and the rest stay put. (Re-inserting a
// row would restart its flash animation.)
function place(parent, trs) {
  let cur = parent.firstChild;
  for (const tr of trs) {
    if (tr === cur) cur = cur.nextSibling;
    else parent.insertBefore(tr, cur);
  }
  while (cur) {
    const next = cur.nextSibling;
    cur.remove();
    cur = next;
  }
}

export function mount(root) {
  const filter = el("input", "filter");
  filter.type = "search";
  filter.placeholder = "Filter by symbol…";
  filter.setAttribute("aria-label", "Filter alerts by symbol");
  const count = el("span", "count");
  count.id = "alert-count";
  const toolbar = el("div", "toolbar");
  toolbar.append(filter, count, el("span", "muted", "Newest first, live."));

  const table = el("table", "list alerts");
  const thead = el("thead");
  const hr = el("tr");
  for (const h of ["time (UTC)", "age", "symbol", "kind", "rule", "observed", "threshold", "reference"]) {
    hr.append(el("th", ["observed", "threshold", "reference"].includes(h) ? "num" : "", h));
  }
  thead.append(hr);
  const tbody = el("tbody");
  tbody.id = "alert-rows";
  table.append(thead, tbody);
  root.append(toolbar, table);

  const rows = new Map(); // key → tr, for alerts currently in the feed
  let first = true; // the first paint shows what is there, without flashing

  function paint() {
    const t0 = performance.now();
    const f = filter.value.trim().toUpperCase();
    const list = f ? store.alerts.filter((a) => a.symbol.includes(f)) : store.alerts;
    const keep = new Set();
    const trs = list.map((a) => {
      const k = key(a);
      keep.add(k);
      let tr = rows.get(k);
      if (!tr) rows.set(k, (tr = row(a, !first)));
      return tr;
    });
    for (const k of rows.keys()) if (!keep.has(k)) rows.delete(k);
    const now = Date.now();
    for (let i = 0; i < trs.length; i++) {
      const ago = trs[i].children[1];
      const text = fmtAgo(list[i].ts, now);
      if (ago.textContent !== text) ago.textContent = text;
    }
    if (!trs.length) {
      const empty = el("tr", "empty");
      empty.append(el("td", "muted", f ? `No alert for “${f}”.` : "No alert yet."));
      empty.firstChild.colSpan = 8;
      trs.push(empty);
    }
    place(tbody, trs);
    count.textContent = list.length === 1 ? "1 alert" : `${list.length} alerts`;
    count.dataset.total = String(list.length);
    first = false;
    notePaint(performance.now() - t0);
  }

  filter.addEventListener("input", paint);
  paint();
  const unsubscribe = subscribe(paint);
  // "12s ago" must move on even when no alert comes.
  const tick = setInterval(paint, 5000);
  return () => {
    unsubscribe();
    clearInterval(tick);
  };
}
