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

  const addMessage = (m) => {
    const list = document.getElementById("transcript");
    if (!list || list.querySelector(`li[data-seq="${m.seq}"]`)) return;
    const li = document.createElement("li");
    li.className = "from-" + m.from;
    li.dataset.seq = String(m.seq);
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = (m.from === "visitor" ? live.dataset.them : live.dataset.you) + " · " + new Date(m.at).toLocaleTimeString();
    const body = document.createElement("p");
    body.className = "body";
    body.textContent = m.body;
    li.append(meta, body);
    list.append(li);
    li.scrollIntoView({ block: "end" });
    after = Math.max(after, m.seq);
  };

  const refreshQueue = async () => {
    const r = await fetch("/api/v1/chats", { headers: { accept: "application/json" }, cache: "no-store" });
    if (!r.ok) return;
    const d = await r.json();
    const count = document.getElementById("queue-count");
    if (count) count.textContent = String(d.queue.length);
    const body = document.querySelector("#queue tbody");
    if (!body) return;
    body.replaceChildren(...d.queue.map((c) => {
      const tr = document.createElement("tr");
      if (c.risks.includes("suicidal_thoughts")) tr.className = "urgent";
      for (const v of [c.priority, c.risks.join(", ") || "—", c.caller_type || "—", c.age_band || "—", Math.floor((Date.now() - c.waiting_since) / 60000) + " min"]) {
        const td = document.createElement("td");
        td.textContent = String(v);
        tr.append(td);
      }
      return tr;
    }));
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
      if (f.type === "queue" && live.dataset.page === "queue") refreshQueue();
      if (f.type === "messages" && f.conversation === convId) {
        f.messages.forEach(addMessage);
        const st = document.getElementById("conv-status");
        if (f.status === "ended" && st) st.textContent = live.dataset.ended;
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
