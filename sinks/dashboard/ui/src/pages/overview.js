// Overview (#/): every configured symbol in one sortable, filterable table.
//
// The table is virtualised: rows have a fixed height, and only the rows in
// view (plus a few either side) exist in the DOM, recycled as the user
// scrolls, so a thousand symbols cost as much as forty. Live data repaints
// at most four times a second (store.js); scrolling repaints at once.
import { store, subscribe } from "../store.js";
import { notePaint } from "../perf.js";
import { el, fmtAgo, fmtCompact, fmtPct, fmtPrice, fmtSigned, kindLabel, signClass, DASH } from "../format.js";

const ROW_H = 28; // px; must match .vrow's height in style.css
const OVERSCAN = 6; // rows kept beyond each edge of the view
const FLASH_MS = 600; // prices move every second: keep the flash short

// The columns: sort key (null: not sortable by value) and how a cell reads.
const columns = [
  { id: "symbol", title: "Symbol", key: (q) => q.symbol },
  { id: "price", title: "Price", num: true, key: (q) => q.price, text: (q) => fmtPrice(q.price) },
  { id: "change", title: "Change", num: true, key: (q) => q.change, text: (q) => fmtSigned(q.change), sign: (q) => q.change },
  { id: "change_pct", title: "Change %", num: true, key: (q) => q.change_pct, text: (q) => fmtPct(q.change_pct), sign: (q) => q.change_pct },
  { id: "ma", title: "MA", num: true, key: (q) => q.ma, text: (q) => fmtPrice(q.ma) },
  { id: "volume", title: "Volume", num: true, key: (q) => q.volume, text: (q) => fmtCompact(q.volume) },
  { id: "alert", title: "Last anomaly", key: (q) => q.last_alert?.ts, text: alertText },
  { id: "prediction", title: "Prediction", num: true, key: (q) => q.prediction?.value, text: predictionText },
];

function alertText(q, now) {
  const a = q.last_alert;
  return a ? `${kindLabel(a.kind)} · ${fmtAgo(a.ts, now)}` : DASH;
}

function predictionText(q) {
  const p = q.prediction;
  return p ? `${fmtPrice(p.value)} ${p.model}` : DASH;
}

// compare orders two values ascending, nulls always last.
function compare(a, b, dir) {
  if (a == null || b == null) return a == null ? (b == null ? 0 : 1) : -1;
  if (a < b) return -dir;
  if (a > b) return dir;
  return 0;
}

export function mount(root) {
  const filter = el("input", "filter");
  filter.type = "search";
  filter.placeholder = "Filter symbols…";
  filter.setAttribute("aria-label", "Filter symbols");
  const count = el("span", "count");
  count.id = "count";
  const hint = el("span", "muted", "Click a header to sort, a row to open its chart.");
  const toolbar = el("div", "toolbar");
  toolbar.append(filter, count, hint);

  const head = el("div", "vrow vhead");
  for (const c of columns) {
    const b = el("button", `cell c-${c.id}${c.num ? " num" : ""}`, c.title);
    b.dataset.sort = c.id;
    head.append(b);
  }
  const canvas = el("div", "vcanvas");
  const body = el("div", "vbody");
  body.append(head, canvas);
  root.append(toolbar, body);

  let sortBy = null; // null: the server's (configured) order
  let dir = 1;
  let view = []; // symbols shown, in order
  const pool = []; // row elements, recycled

  function rebuildView() {
    const f = filter.value.trim().toUpperCase();
    view = f ? store.symbols.filter((s) => s.includes(f)) : store.symbols.slice();
    if (sortBy) {
      const col = columns.find((c) => c.id === sortBy);
      view.sort((a, b) => {
        const qa = store.quotes.get(a) ?? { symbol: a };
        const qb = store.quotes.get(b) ?? { symbol: b };
        return compare(col.key(qa), col.key(qb), dir) || compare(a, b, 1);
      });
    }
    canvas.style.height = `${view.length * ROW_H}px`;
    const total = store.symbols.length;
    count.dataset.total = String(total);
    count.dataset.shown = String(view.length);
    count.textContent = !total ? "loading symbols…" : f ? `${view.length} of ${total} symbols` : `${total} symbols`;
  }

  function makeRow() {
    const r = el("div", "vrow");
    for (const c of columns) {
      r.append(c.id === "symbol" ? el("a", "cell c-symbol") : el("span", `cell c-${c.id}${c.num ? " num" : ""}`));
    }
    canvas.append(r);
    return r;
  }

  let fadeTimer = null;

  function paintRows() {
    const t0 = performance.now();
    const now = Date.now();
    const first = Math.max(0, Math.floor(body.scrollTop / ROW_H) - OVERSCAN);
    const last = Math.min(view.length, Math.ceil((body.scrollTop + body.clientHeight) / ROW_H) + OVERSCAN);
    while (pool.length < last - first) pool.push(makeRow());
    // Row idx always lands on element idx % pool.length: while it stays in
    // view it keeps its element, so scrolling rewrites only the rows that
    // come into view.
    const used = new Array(pool.length).fill(false);
    let flashing = false;
    for (let idx = first; idx < last; idx++) {
      const slot = idx % pool.length;
      used[slot] = true;
      const r = pool[slot];
      r.hidden = false;
      const sym = view[idx];
      const q = store.quotes.get(sym) ?? { symbol: sym };
      r.style.transform = `translateY(${idx * ROW_H}px)`;
      r.dataset.symbol = sym;
      r.dataset.index = String(idx);
      r.classList.toggle("odd", idx % 2 === 1);
      const cells = r.children;
      if (cells[0].textContent !== sym) {
        cells[0].textContent = sym;
        cells[0].href = `#/symbol/${encodeURIComponent(sym)}`;
      }
      for (let c = 1; c < columns.length; c++) {
        const col = columns[c];
        const cell = cells[c];
        const text = col.text(q, now);
        if (cell.textContent !== text) cell.textContent = text;
        if (col.sign) cell.className = `cell c-${col.id} num ${signClass(col.sign(q))}`;
      }
      const move = store.moves.get(sym);
      const flash = move && performance.now() - move.at < FLASH_MS ? (move.dir > 0 ? "flash-up" : "flash-down") : "";
      flashing ||= flash !== "";
      cells[1].className = `cell c-price num ${flash}`;
    }
    pool.forEach((r, slot) => (r.hidden = !used[slot]));
    notePaint(performance.now() - t0);
    // A flash must fade even if no more data comes to trigger a repaint.
    if (flashing) {
      clearTimeout(fadeTimer);
      fadeTimer = setTimeout(paintRows, FLASH_MS);
    }
  }

  function paintHead() {
    for (const b of head.children) {
      b.classList.toggle("sorted", b.dataset.sort === sortBy);
      b.classList.toggle("desc", b.dataset.sort === sortBy && dir < 0);
      b.setAttribute("aria-sort", b.dataset.sort !== sortBy ? "none" : dir > 0 ? "ascending" : "descending");
    }
  }

  function refresh() {
    rebuildView();
    paintRows();
  }

  let scrollFrame = 0;
  body.addEventListener("scroll", () => {
    if (!scrollFrame) {
      scrollFrame = requestAnimationFrame(() => {
        scrollFrame = 0;
        paintRows();
      });
    }
  });
  filter.addEventListener("input", () => {
    body.scrollTop = 0;
    refresh();
  });
  // Enter in the filter opens the chart when exactly one symbol matches.
  filter.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && view.length === 1) location.hash = `#/symbol/${encodeURIComponent(view[0])}`;
  });
  head.addEventListener("click", (ev) => {
    const id = ev.target.closest("button")?.dataset.sort;
    if (!id) return;
    // Symbol sorts A→Z first; numbers largest first, which is what one looks for.
    if (sortBy === id) dir = -dir;
    else [sortBy, dir] = [id, id === "symbol" ? 1 : -1];
    paintHead();
    refresh();
  });
  canvas.addEventListener("click", (ev) => {
    const row = ev.target.closest(".vrow");
    if (row?.dataset.symbol && !ev.target.closest("a")) location.hash = `#/symbol/${encodeURIComponent(row.dataset.symbol)}`;
  });
  const resize = new ResizeObserver(() => paintRows());
  resize.observe(body);

  paintHead();
  refresh();
  filter.focus();
  const unsubscribe = subscribe(refresh);
  return () => {
    unsubscribe();
    resize.disconnect();
    clearTimeout(fadeTimer);
    cancelAnimationFrame(scrollFrame);
  };
}
