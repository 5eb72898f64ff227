// Measures how responsive the page is, for the footer and for the browser
// test (window.__tickstreamPerf): the longest gap between two animation
// frames and the longest main-thread task over the last WINDOW_MS. A page
// that keeps up with a thousand symbols shows gaps near 16 ms; a frozen one
// shows seconds.

const WINDOW_MS = 10_000;

const frames = []; // [at, gap] of recent frames, oldest first
const tasks = []; // [at, duration] of recent long tasks (≥ 50 ms, the browser's cut)
const paints = []; // [at, duration] of recent repaints of the page
let last = 0;

function trim(list, now) {
  while (list.length && list[0][0] < now - WINDOW_MS) list.shift();
}

function maxOf(list) {
  let m = 0;
  for (const [, v] of list) m = Math.max(m, v);
  return m;
}

function frame(now) {
  if (last) frames.push([now, now - last]);
  last = now;
  trim(frames, now);
  requestAnimationFrame(frame);
}

// notePaint records how long one repaint of the page took.
export function notePaint(ms) {
  paints.push([performance.now(), ms]);
}

// snapshot is the current figure, also published as window.__tickstreamPerf.
export function snapshot() {
  const now = performance.now();
  trim(frames, now);
  trim(tasks, now);
  trim(paints, now);
  const span = frames.length ? now - frames[0][0] : 0;
  return {
    window_ms: WINDOW_MS,
    frames: frames.length,
    fps: span > 0 ? Math.round((frames.length * 1000) / span) : 0,
    max_frame_gap_ms: Math.round(maxOf(frames)),
    max_long_task_ms: Math.round(maxOf(tasks)),
    long_tasks: tasks.length,
    paints: paints.length,
    max_paint_ms: Math.round(maxOf(paints) * 10) / 10,
  };
}

// start begins measuring and updates el (the footer) twice a second.
export function start(el) {
  // A hidden tab gets no frames: the gap on return says nothing about us.
  document.addEventListener("visibilitychange", () => {
    last = 0;
    frames.length = 0;
  });
  requestAnimationFrame(frame);
  if (PerformanceObserver.supportedEntryTypes?.includes("longtask")) {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) tasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask" });
  }
  Object.defineProperty(window, "__tickstreamPerf", { get: snapshot, configurable: true });
  setInterval(() => {
    const p = snapshot();
    el.textContent =
      `last ${p.window_ms / 1000} s: ${p.fps} fps · max frame gap ${p.max_frame_gap_ms} ms · ` +
      `max long task ${p.max_long_task_ms} ms · slowest repaint ${p.max_paint_ms} ms`;
    el.classList.toggle("warn", p.max_frame_gap_ms > 200);
  }, 500);
}
