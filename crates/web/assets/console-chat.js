// Console live view: the queue refreshes itself, and a conversation's transcript receives
// the visitor's messages as they are committed. Replies go over HTTP (with the session's
// CSRF token and a client id, so a retry is stored once); the socket only pushes.
const live = document.getElementById("live");
if (live) {
  const csrf = live.dataset.csrf;
  const convId = live.dataset.conversation;
  let after = Number(live.dataset.after || "0");
  let socket = null;
  let backoff = 500;
  const names = JSON.parse(live.dataset.names || "{}");
  // times as the server writes them: dd/mm/yyyy hh:mm, the helpline's time zone
  const parts = new Intl.DateTimeFormat("fr-FR", { timeZone: live.dataset.tz || "Europe/Paris", day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const when = (ms) => {
    const p = Object.fromEntries(parts.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
  };
  // the newest message in view; a form sent back with a mistake says so first
  const transcript = document.getElementById("transcript");
  if (transcript) transcript.scrollTop = transcript.scrollHeight;
  const endError = document.getElementById("end-error");
  if (endError) endError.focus();

  const addMessage = (m) => {
    const list = document.getElementById("transcript");
    if (!list || list.querySelector(`li[data-seq="${m.seq}"]`)) return;
    const li = document.createElement("li");
    li.className = "from-" + m.from;
    li.dataset.seq = String(m.seq);
    const meta = document.createElement("span");
    meta.className = "meta";
    const author = (m.author_id && names[m.author_id]) || (m.from === "system" ? "" : live.dataset.you);
    const who = m.from === "visitor" ? live.dataset.them : (m.from === "note" ? live.dataset.note + " · " : "") + author;
    const time = document.createElement("time");
    time.dateTime = String(m.at);
    time.textContent = when(m.at);
    meta.append(who + " · ", time);
    const body = document.createElement("p");
    body.className = "body";
    body.textContent = m.body;
    li.append(meta, body);
    list.append(li);
    list.scrollTop = list.scrollHeight;
    after = Math.max(after, m.seq);
  };

  const connect = () => {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/ws");
    socket = ws;
    ws.onopen = () => {
      backoff = 500;
      if (convId) ws.send(JSON.stringify({ type: "watch", conversation: convId, after }));
    };
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (f.type === "queue") window.dispatchEvent(new Event("rempart:queue"));
      if (f.type === "messages" && f.conversation === convId) {
        f.messages.forEach(addMessage);
        const st = document.getElementById("conv-status");
        if (f.status === "ended" && st) st.textContent = live.dataset.ended;
        if (f.status === "left") {
          // the young person left by quick exit: no reply reaches them; the summary remains
          if (st) st.textContent = live.dataset.left;
          const n = document.getElementById("left-notice");
          if (n) n.hidden = false;
          for (const id of ["reply-form", "transfer-form"]) {
            const el = document.getElementById(id);
            if (el) el.hidden = true;
          }
        }
      }
      if (f.type === "typing") {
        const t = document.getElementById("visitor-typing");
        if (t) { t.hidden = false; clearTimeout(connect.t); connect.t = setTimeout(() => (t.hidden = true), 4000); }
      }
    };
    ws.onclose = (e) => {
      socket = null;
      // access ended (handed over, ended elsewhere): back to the queue, which says so;
      // session ended: the login page
      if (e.code === 4403) { location.assign("/chats?access_ended=1"); return; }
      if (e.code === 4401) { location.reload(); return; }
      setTimeout(connect, Math.min((backoff *= 2), 15000));
    };
  };
  connect();

  const form = document.getElementById("reply-form");
  if (form) {
    const text = document.getElementById("reply");
    const canned = document.getElementById("canned");
    if (canned) canned.addEventListener("change", () => { if (canned.value) { text.value = canned.value; text.focus(); canned.value = ""; } });
    let typingAt = 0;
    text.addEventListener("input", () => {
      if (socket && socket.readyState === 1 && Date.now() - typingAt > 3000) {
        typingAt = Date.now();
        socket.send(JSON.stringify({ type: "typing", conversation: convId }));
      }
    });
    // Enter sends, Shift+Enter makes a new line (as in the widget)
    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = text.value.trim();
      if (!body) return;
      const clientId = crypto.randomUUID().replace(/[^A-Za-z0-9-]/g, "");
      const button = document.getElementById("reply-send");
      button.disabled = true;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          const r = await fetch(`/api/v1/chats/${convId}/messages`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-csrf-token": csrf },
            body: JSON.stringify({ client_id: clientId, body }),
          });
          if (r.ok) { addMessage(await r.json()); text.value = ""; break; }
          if (r.status < 500) break;
        } catch (_) { /* retried with the same client id */ }
        await new Promise((res) => setTimeout(res, 500 * 2 ** attempt));
      }
      button.disabled = false;
      text.focus();
    });
  }
}
