// The server's JSON API and its event stream, with the bearer token.
//
// The token is asked for only when the server answers 401, and kept in
// sessionStorage so it lives as long as the tab and no longer. fetch sends
// it as a header; EventSource cannot set headers, so the stream URL carries
// it as ?access_token= (the server accepts that on /api/stream only).

const TOKEN_KEY = "tickstream.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

let asking = null; // one dialog at a time, however many calls got a 401

// askToken shows the token dialog and resolves when the user has entered one.
function askToken() {
  if (asking) return asking;
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  input.value = "";
  asking = new Promise((resolve) => {
    dialog.addEventListener("close", function done() {
      dialog.removeEventListener("close", done);
      asking = null;
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      resolve();
    });
  });
  dialog.showModal();
  return asking;
}

/** HTTPError is a non-2xx answer; message is the server's body text. */
export class HTTPError extends Error {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
  }
}

// getJSON fetches path and decodes its JSON, asking for a token on 401 and
// trying again with it.
export async function getJSON(path, init = {}) {
  for (;;) {
    const headers = new Headers(init.headers);
    const t = token();
    if (t) headers.set("Authorization", `Bearer ${t}`);
    const resp = await fetch(path, { ...init, headers });
    if (resp.status === 401) {
      await askToken();
      continue;
    }
    if (!resp.ok) throw new HTTPError(resp.status, (await resp.text()).trim());
    return resp.json();
  }
}

// openStream keeps an EventSource on /api/stream open and calls
// handlers[event](data) for each event, and onState(state) as the
// connection changes: "live", "connecting", "reconnecting" or "auth".
//
// EventSource retries by itself after a network error, but gives up for
// good on an HTTP error such as 401 or 503. Then we find out why with a
// plain fetch (which asks for the token on 401) and open a new one.
export function openStream(handlers, onState) {
  let es = null;
  let stopped = false;
  let retry = null;
  let delay = 1000;
  let everOpen = false;

  const connect = () => {
    const t = token();
    const url = t ? `api/stream?access_token=${encodeURIComponent(t)}` : "api/stream";
    es = new EventSource(url);
    es.onopen = () => {
      everOpen = true;
      delay = 1000;
      onState("live");
    };
    es.onerror = () => {
      if (stopped) return;
      if (es.readyState === EventSource.CONNECTING) {
        onState(everOpen ? "reconnecting" : "connecting");
        return;
      }
      es.close(); // CLOSED: an HTTP error, EventSource will not retry
      onState("reconnecting");
      retry = setTimeout(async () => {
        try {
          await getJSON("api/engine"); // resolves after a token prompt if needed
        } catch {
          // still down: try the stream anyway, with a longer wait next time
        }
        delay = Math.min(delay * 2, 15000);
        if (!stopped) connect();
      }, delay);
    };
    for (const [name, fn] of Object.entries(handlers)) {
      es.addEventListener(name, (ev) => {
        let data;
        try {
          data = JSON.parse(ev.data);
        } catch {
          return; // a broken event is dropped; the next snapshot repairs the model
        }
        fn(data);
      });
    }
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    es?.close();
  };
}
