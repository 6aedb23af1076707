// Rempart chat frame. Messages are shown only as text. A message is marked "sent" only
// once the server has committed it; unsent messages keep their client id and are retried,
// so a retry after a lost connection or a reload never duplicates. A random device key lets
// the counsellor see this device's earlier conversations (the server keeps only a keyed
// hash of it). Quick exit first tells the server (a keepalive request that outlives the
// page: the counsellor sees the young person left), then wipes this origin's storage, device
// key included, and leaves for a neutral site without waiting. Once a conversation has
// ended, "start a new conversation" drops its token here and opens a new one at once.
const KEY = "rempart-chat";
const DEVICE = "rempart-device";
const root = document.getElementById("chat");
const i18n = document.getElementById("i18n").dataset;
const resumeMs = Number(root.dataset.resumeMinutes || "30") * 60000;
const lang = root.dataset.lang === "en" ? "en" : "fr";
const $ = (id) => document.getElementById(id);

// Where the frame keeps its state: this origin's storage when the browser allows it. Inside
// the helpline's own site (another origin), a browser that blocks third-party storage
// refuses it; the loader on that site then keeps the chat token and the device key for the
// frame, in the site's session storage (never a message's text), until the tab is closed or
// quick exit is used.
const own = (() => {
  try {
    const s = window.localStorage;
    s.setItem("rempart-probe", "1");
    s.removeItem("rempart-probe");
    return s;
  } catch (_) {
    return null;
  }
})();
// the page embedding this frame (the helpline's site, or the demo page), if any
const parentOrigin = window.parent !== window
  ? (location.ancestorOrigins && location.ancestorOrigins[0]) || (document.referrer ? new URL(document.referrer).origin : null)
  : null;
const hostOrigin = own ? null : parentOrigin;
const kept = new Map();
const store = {
  get: (k) => (own ? own.getItem(k) : kept.get(k) ?? null),
  set(k, v) {
    if (own) own.setItem(k, v);
    else { kept.set(k, v); keepAtHost(); }
  },
  remove(k) {
    if (own) own.removeItem(k);
    else if (kept.delete(k)) keepAtHost();
  },
  clear() {
    if (own) own.clear();
    kept.clear();
    try { sessionStorage.clear(); } catch (_) { /* refused: nothing stored */ }
  },
};
function keepAtHost() {
  if (!hostOrigin) return;
  let chat = null;
  try {
    const s = JSON.parse(kept.get(KEY) || "null");
    if (s && s.token) chat = JSON.stringify({ token: s.token, savedAt: s.savedAt, lastSeq: 0, pending: [], seen: [] });
  } catch (_) { /* nothing to keep */ }
  window.parent.postMessage({ type: "rempart-keep", chat, device: kept.get(DEVICE) || null }, hostOrigin);
}
// Asks the loader what it kept for this frame (nothing after a second: a page without it).
function restoreFromHost() {
  if (!hostOrigin) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { window.removeEventListener("message", onMessage); clearTimeout(timer); resolve(); };
    const onMessage = (e) => {
      if (e.source !== window.parent || e.origin !== hostOrigin || !e.data || e.data.type !== "rempart-kept") return;
      if (typeof e.data.chat === "string") kept.set(KEY, e.data.chat);
      if (typeof e.data.device === "string") kept.set(DEVICE, e.data.device);
      done();
    };
    window.addEventListener("message", onMessage);
    const timer = setTimeout(done, 1000);
    window.parent.postMessage({ type: "rempart-restore" }, hostOrigin);
  });
}

const empty = () => ({ token: null, lastSeq: 0, pending: [], seen: [] });
let state = empty();
let socket = null;
let backoff = 500;
let typingSent = 0;
// the pre-chat answers of this visit, for a new conversation after the end (never stored)
let answers = {};

function load() {
  try {
    const s = JSON.parse(store.get(KEY) || "null");
    if (s && s.token && Date.now() - (s.savedAt || 0) < resumeMs) return s;
  } catch (_) { /* unreadable: start afresh */ }
  store.remove(KEY);
  return empty();
}
function save() {
  if (!state.token) return;
  state.savedAt = Date.now();
  store.set(KEY, JSON.stringify(state));
}
function deviceKey() {
  let d = store.get(DEVICE);
  if (d && /^[0-9a-f]{64}$/.test(d)) return d;
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  d = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  store.set(DEVICE, d);
  return d;
}
// SHA-256 (FIPS 180-4) of a short ASCII string, for the proof of work asked under a flood.
const K256 = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
function sha256(text) {
  const n = text.length;
  const blocks = Math.ceil((n + 9) / 64);
  const w = new Uint32Array(blocks * 16);
  for (let i = 0; i < n; i++) w[i >> 2] |= (text.charCodeAt(i) & 0xff) << (24 - (i % 4) * 8);
  w[n >> 2] |= 0x80 << (24 - (n % 4) * 8);
  w[blocks * 16 - 1] = n * 8;
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const m = new Uint32Array(64);
  const rotr = (x, r) => (x >>> r) | (x << (32 - r));
  for (let b = 0; b < blocks; b++) {
    for (let t = 0; t < 64; t++) {
      if (t < 16) m[t] = w[b * 16 + t];
      else {
        const a = m[t - 15], c = m[t - 2];
        m[t] = (m[t - 16] + (rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3)) + m[t - 7] + (rotr(c, 17) ^ rotr(c, 19) ^ (c >>> 10))) >>> 0;
      }
    }
    let [a, bb, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 64; t++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K256[t] + m[t]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = bb; bb = a; a = (t1 + t2) >>> 0;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  return h;
}
function zeroBits(h) {
  let n = 0;
  for (const word of h) {
    if (word === 0) n += 32;
    else return n + Math.clz32(word);
  }
  return n;
}
// Finds the nonce in slices, so the page stays responsive.
async function solve(challenge, bits) {
  for (let nonce = 0; ; ) {
    const end = nonce + 20000;
    for (; nonce < end; nonce++) if (zeroBits(sha256(challenge + ":" + nonce)) >= bits) return String(nonce);
    await new Promise((r) => setTimeout(r, 0));
  }
}
window.rempartSolve = solve;

function clientId() {
  return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2)).replace(/[^A-Za-z0-9-]/g, "");
}

async function api(path, opts = {}) {
  const headers = { "content-type": "application/json" };
  if (state.token) headers.authorization = "Bearer " + state.token;
  const r = await fetch(path, { ...opts, headers, cache: "no-store", credentials: "omit" });
  if (r.status === 401) { forget(); throw new Error("session ended"); }
  if (!r.ok) throw new Error("HTTP " + r.status);
  return r.status === 204 ? null : r.json();
}

function forget() {
  store.remove(KEY);
  state = empty();
}

function render(m) {
  // one <li> per message; a pending one is updated in place when committed
  let li = m.client_id && m.from === "visitor" ? document.querySelector(`li[data-client="${CSS.escape(m.client_id)}"]`) : null;
  if (!li && m.seq && document.querySelector(`li[data-seq="${m.seq}"]`)) return;
  if (!li) {
    li = document.createElement("li");
    const who = document.createElement("span");
    who.className = "who";
    const body = document.createElement("p");
    body.className = "body";
    const meta = document.createElement("span");
    meta.className = "meta";
    li.append(who, body, meta);
    $("messages").append(li);
  }
  li.className = m.from === "visitor" ? "me" : "them";
  if (m.client_id && m.from === "visitor") li.dataset.client = m.client_id;
  if (m.seq) li.dataset.seq = String(m.seq);
  li.querySelector(".who").textContent = m.from === "visitor" ? i18n.you : i18n.them;
  li.querySelector(".body").textContent = m.body;
  li.querySelector(".meta").textContent = m.pending ? (m.failed ? i18n.failed : i18n.sending) : (m.from === "visitor" ? i18n.sent : "");
  // only the transcript scrolls (scrollIntoView would move the frame's page too)
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

function accept(m) {
  if (m.seq > state.lastSeq) state.lastSeq = m.seq;
  state.pending = state.pending.filter((p) => !(m.from === "visitor" && p.client_id === m.client_id));
  save();
  render(m);
}

function showState(c) {
  const s = $("status");
  if (c.status === "waiting") {
    const mins = c.expected_wait_s != null ? Math.max(1, Math.round(c.expected_wait_s / 60)) : null;
    s.textContent = i18n.waiting.replace("{position}", c.position ?? "?").replace("{minutes}", mins ?? "?");
  } else if (c.status === "active") s.textContent = i18n.active;
  else if (c.status === "left_message") s.textContent = i18n.left;
  else {
    // ended: the notice stays in the flow, and a new conversation is one tap away
    s.textContent = i18n.ended;
    const writing = document.activeElement === $("body");
    $("send-form").hidden = true;
    $("typing").hidden = true;
    $("ended-box").hidden = false;
    if (writing) $("new-conversation").focus();
    return;
  }
  $("ended-box").hidden = true;
  $("send-form").hidden = false;
}

async function flush() {
  for (const p of [...state.pending]) {
    try {
      const m = await api("/widget/v1/messages", { method: "POST", body: JSON.stringify({ client_id: p.client_id, body: p.body }) });
      accept(m);
    } catch (e) {
      p.failed = true;
      render({ ...p, from: "visitor", pending: true, failed: true });
      setTimeout(flush, Math.min((backoff *= 2), 15000));
      return;
    }
  }
  backoff = 500;
}

function connect() {
  if (!state.token || socket) return;
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/widget/v1/ws");
  const token = state.token;
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ token: state.token, after: state.lastSeq }));
  ws.onmessage = (e) => {
    if (state.token !== token) return; // a conversation this frame has left
    const f = JSON.parse(e.data);
    if (f.type === "message") accept(f.message);
    else if (f.type === "state") showState(f.conversation);
    else if (f.type === "typing") { $("typing").hidden = false; clearTimeout(connect.t); connect.t = setTimeout(() => ($("typing").hidden = true), 4000); }
  };
  ws.onclose = () => {
    if (socket === ws) socket = null;
    if (state.token && state.token === token) setTimeout(() => { connect(); flush(); }, Math.min((backoff *= 2), 15000));
  };
}

async function resume() {
  const data = await api("/widget/v1/messages?after=0");
  for (const m of data.messages) accept(m);
  for (const p of state.pending) render({ ...p, from: "visitor", pending: true });
  showState(data.conversation);
  enterConversation();
  flush();
}

function enterConversation() {
  $("prechat").hidden = true;
  root.classList.add("talking");
  $("conversation").hidden = false;
  connect();
  $("body").focus();
}

async function start(ev) {
  ev.preventDefault();
  const f = new FormData($("prechat-form"));
  answers = {};
  if (f.get("caller_type")) answers.caller_type = f.get("caller_type");
  if (f.get("age_band")) answers.age_band = f.get("age_band");
  $("start").disabled = true;
  if (!(await openSession())) $("start").disabled = false;
}

// Opens a conversation (with the pre-chat answers of this visit); false when it could not.
async function openSession() {
  const body = { lang, device: deviceKey(), ...answers };
  try {
    const open = () => fetch("/widget/v1/sessions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), cache: "no-store", credentials: "omit" });
    let r = await open();
    // where "one moment" is said: the pre-chat form, or the ended conversation's status
    const note = $("prechat").hidden ? $("status") : $("prechat-status");
    if (r.status === 428) {
      // many conversations are starting at once: the browser proves it is one person's
      note.textContent = i18n.checking;
      const ch = await api("/widget/v1/challenge");
      body.pow = { challenge: ch.challenge, nonce: await solve(ch.challenge, ch.bits) };
      r = await open();
    }
    note.textContent = "";
    if (!r.ok) throw new Error("HTTP " + r.status);
    r = await r.json();
    state = { token: r.token, lastSeq: 0, pending: [], seen: [] };
    save();
    showState(r.conversation);
    if (r.follow_up_code) {
      // left while closed: the code to read the answer later, shown once (never stored here)
      $("code-value").textContent = r.follow_up_code;
      $("code-box").hidden = false;
    }
    enterConversation();
    return true;
  } catch (e) {
    return false;
  }
}

// After the end: the old conversation leaves this device (its token dropped, its lines
// cleared) and a new one opens at once, on the same device key.
async function newConversation() {
  const old = socket;
  forget();
  socket = null;
  if (old) old.close();
  $("messages").replaceChildren();
  $("code-box").hidden = true;
  $("ended-box").hidden = true;
  $("status").textContent = "";
  $("new-conversation").disabled = true;
  const ok = await openSession();
  $("new-conversation").disabled = false;
  if (!ok) {
    // could not open one now (a limit, the network): back to the pre-chat form
    $("conversation").hidden = true;
    root.classList.remove("talking");
    $("prechat").hidden = false;
    $("start").disabled = false;
    $("start").focus();
  }
}

// Back later with the follow-up code given when the message was left.
async function followUp(ev) {
  ev.preventDefault();
  const code = $("follow-up-code").value.trim();
  if (!code) return;
  $("follow-up-open").disabled = true;
  try {
    const r = await fetch("/widget/v1/follow-up", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code }), cache: "no-store", credentials: "omit" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const d = await r.json();
    state = { token: d.token, lastSeq: 0, pending: [], seen: [] };
    save();
    $("follow-up-code").value = "";
    await resume();
  } catch (e) {
    $("follow-up-status").textContent = i18n.codeUnknown;
  } finally {
    $("follow-up-open").disabled = false;
  }
}

function send(ev) {
  ev.preventDefault();
  const text = $("body").value.trim();
  if (!text) return;
  const p = { client_id: clientId(), body: text };
  state.pending.push(p);
  save();
  render({ ...p, from: "visitor", pending: true });
  $("body").value = "";
  flush();
}

// Back to the site, the conversation kept: the loader hides the frame (its button reopens it).
function minimise() {
  if (parentOrigin) window.parent.postMessage({ type: "rempart-minimise" }, parentOrigin);
}

function quickExit() {
  // the server first (the counsellor sees the young person left); nothing waits for it
  if (state.token) {
    try {
      fetch("/widget/v1/leave", { method: "POST", headers: { authorization: "Bearer " + state.token }, keepalive: true, cache: "no-store", credentials: "omit" }).catch(() => {});
    } catch (_) { /* leaving matters more than telling */ }
  }
  store.clear();
  state = empty();
  if (socket) socket.close();
  $("messages").replaceChildren();
  const to = root.dataset.exitUrl;
  if (window.parent !== window) window.parent.postMessage({ type: "rempart-quick-exit", to }, "*");
  window.location.replace(to);
}

async function init() {
  $("quick-exit").addEventListener("click", quickExit);
  if (parentOrigin) {
    $("minimise").hidden = false;
    $("minimise").addEventListener("click", minimise);
  }
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && e.shiftKey) quickExit();
    else if (e.key === "Escape") minimise();
  });
  $("prechat-form").addEventListener("submit", start);
  $("follow-up-form").addEventListener("submit", followUp);
  $("send-form").addEventListener("submit", send);
  $("body").addEventListener("input", () => {
    if (socket && socket.readyState === 1 && Date.now() - typingSent > 3000) {
      typingSent = Date.now();
      socket.send(JSON.stringify({ type: "typing" }));
    }
  });
  // Enter sends, Shift+Enter makes a new line (not while an input method composes)
  $("body").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) send(e); });
  $("new-conversation").addEventListener("click", newConversation);
  await restoreFromHost();
  state = load();
  try {
    const st = await api("/widget/v1/status");
    if (!st.open) {
      $("closed").hidden = false;
      $("hours").textContent = st.hours.filter((h) => h.open).length === 7 ? `${st.hours[0].open}–${st.hours[0].close}` : st.hours.map((h) => (h.open ? `${h.open}–${h.close}` : "—")).join(", ");
      for (const e of st.emergency) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = "tel:" + e.number;
        a.textContent = e.number;
        li.append(a, " ", lang === "en" ? e.en : e.fr);
        $("emergency").append(li);
      }
    }
  } catch (_) { /* status is informative only */ }
  if (state.token) {
    try { await resume(); return; } catch (_) { forget(); }
  }
  $("prechat").hidden = false;
}

init();
