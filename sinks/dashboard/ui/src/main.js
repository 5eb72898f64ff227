// The dashboard's entry point: loads the first data, keeps the event stream
// open, and mounts one page per hash route:
//
//   #/               overview of every symbol
//   #/symbol/AAPL    one symbol's chart
//   #/alerts         the alert feed
//   #/engine         the engine's health
//
// Each page module exports mount(root, arg) and returns its unmount function.
import "uplot/dist/uPlot.min.css"; // first, so style.css can adjust it
import "./style.css";
import { getJSON, openStream } from "./api.js";
import { addAlerts, handlers, store } from "./store.js";
import * as perf from "./perf.js";
import * as overview from "./pages/overview.js";
import * as symbol from "./pages/symbol.js";
import * as alerts from "./pages/alerts.js";
import * as engine from "./pages/engine.js";

const routes = [
  [/^#?\/?$/, "overview", overview],
  [/^#\/symbol\/([^/]+)$/, null, symbol],
  [/^#\/alerts$/, "alerts", alerts],
  [/^#\/engine$/, "engine", engine],
];

let unmount = null;

function route() {
  const root = document.getElementById("page");
  unmount?.();
  root.replaceChildren();
  const hash = location.hash;
  for (const [re, nav, page] of routes) {
    const m = re.exec(hash);
    if (!m) continue;
    for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.route === nav);
    unmount = page.mount(root, m[1] && decodeURIComponent(m[1]));
    return;
  }
  location.hash = "#/";
}

function setConnection(state) {
  const conn = document.getElementById("conn");
  conn.dataset.state = state;
  conn.querySelector("span").textContent =
    { live: "live", connecting: "connecting", reconnecting: "reconnecting…" }[state] ?? state;
}

async function start() {
  perf.start(document.getElementById("perf"));
  window.addEventListener("hashchange", route);
  route();
  // The first fetch also asks for the token when the server needs one, so
  // the stream opens with it.
  try {
    handlers.snapshot(await getJSON("api/symbols"));
    addAlerts((await getJSON("api/alerts?limit=500")).alerts);
    handlers.engine(await getJSON("api/engine"));
  } catch (err) {
    console.error("initial load failed; waiting for the stream", err);
  }
  openStream(handlers, setConnection);
  const clock = document.getElementById("clock");
  setInterval(() => {
    clock.textContent = `${new Date().toISOString().slice(11, 19)} UTC · ${store.symbols.length} symbols`;
  }, 1000);
}

start();
