// Number and time formatting, and a small DOM helper. Every value from the
// server goes into the page as text (textContent), never as HTML.

const price = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export const DASH = "—"; // a missing value (null in the API)

export function fmtPrice(v) {
  return v == null ? DASH : price.format(v);
}

export function fmtSigned(v) {
  return v == null ? DASH : (v > 0 ? "+" : "") + price.format(v);
}

export function fmtPct(v) {
  return v == null ? DASH : (v > 0 ? "+" : "") + price.format(v) + "%";
}

export function fmtCompact(v) {
  return v == null ? DASH : compact.format(v);
}

export function fmtInt(v) {
  return v == null ? DASH : whole.format(v);
}

export function fmtBytes(v) {
  if (v == null) return DASH;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

// fmtTime is a UTC wall-clock time (the API's times are UTC milliseconds).
export function fmtTime(ms) {
  return ms == null ? DASH : new Date(ms).toISOString().slice(11, 19);
}

export function fmtDateTime(ms) {
  return ms == null ? DASH : new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z";
}

// fmtAgo is how long before now ms was: "4s", "12m", "3h".
export function fmtAgo(ms, now = Date.now()) {
  if (ms == null) return DASH;
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function fmtDuration(seconds) {
  if (seconds == null) return DASH;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

// kindLabel turns an alert kind such as "volume_spike" into "volume spike".
export function kindLabel(kind) {
  return kind ? kind.replaceAll("_", " ") : DASH;
}

// priceAxis formats a price axis's labels with as many decimals as the
// step between them needs (at least 2), so close labels never repeat.
export function priceAxis(u, splits, axis, space, incr) {
  const d = Math.min(8, Math.max(2, Math.ceil(-Math.log10(incr || 1) + 1e-9)));
  return splits.map((v) => (v == null ? "" : v.toFixed(d)));
}

// timeAxis formats uPlot's time-axis labels (ms timestamps, UTC, 24 h):
// seconds when ticks are seconds apart, the date at midnight or when ticks
// are days apart.
export function timeAxis(u, splits, axis, space, incr) {
  return splits.map((ms) => {
    const iso = new Date(ms).toISOString();
    if (incr >= 86400e3) return iso.slice(5, 10);
    if (incr < 60e3) return iso.slice(11, 19);
    return iso.slice(11, 16) === "00:00" ? iso.slice(5, 10) : iso.slice(11, 16);
  });
}

// el makes an element with a class and text: el("td", "num", "1.00").
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

// signClass is the class that colours a change: "up", "down" or "".
export function signClass(v) {
  return v > 0 ? "up" : v < 0 ? "down" : "";
}
