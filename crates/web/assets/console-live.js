// The shift, on every console page of those who answer chats: the number waiting in the
// menu, live; on the queue page the queue itself (the server renders it, the same as for the
// first page: GET /chats/live); and, for those who turned alerts on, a short sound and the
// tab's title when a conversation arrives or becomes urgent. A conversation page shares its
// socket (console-chat.js sends a "rempart:queue" event); other pages open their own.
const badge = document.getElementById("nav-waiting");
if (badge) {
  const baseTitle = document.title;
  let known = null; // conversation id → urgent, as last seen
  let busy = false;
  let again = false;

  const beep = () => {
    try {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.08;
      osc.connect(gain).connect(ctx.destination);
      osc.onended = () => ctx.close();
      osc.start();
      osc.stop(ctx.currentTime + 0.2);
    } catch (_) { /* no audio here: the title still says it */ }
  };

  const apply = (html) => {
    const shift = new DOMParser().parseFromString(html, "text/html").getElementById("shift");
    if (!shift) return;
    const n = Number(shift.dataset.waiting || "0");
    badge.querySelector(".n").textContent = String(n);
    badge.hidden = n === 0;
    const now = new Map([...shift.querySelectorAll("tr[data-conversation]")]
      .map((tr) => [tr.dataset.conversation, tr.dataset.urgent === "1"]));
    const here = document.getElementById("shift");
    if (here) here.replaceWith(document.adoptNode(shift));
    if (known && shift.dataset.alerts === "1") {
      const news = [...now].some(([id, urgent]) => !known.has(id) || (urgent && !known.get(id)));
      if (news) {
        beep();
        document.title = shift.dataset.title + " – " + baseTitle;
      }
    }
    known = now;
  };

  const refresh = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const r = await fetch("/chats/live", { cache: "no-store", headers: { accept: "text/html" } });
      if (r.ok) apply(await r.text());
    } catch (_) { /* the next event or tick tries again */ }
    busy = false;
    if (again) { again = false; refresh(); }
  };

  const calm = () => { if (!document.hidden) document.title = baseTitle; };
  document.addEventListener("visibilitychange", calm);
  document.addEventListener("pointerdown", calm);
  document.addEventListener("keydown", calm);
  window.addEventListener("rempart:queue", refresh);
  // waits grow without events: look again every 30 s
  setInterval(refresh, 30_000);
  refresh();

  if (!document.getElementById("live")) {
    let backoff = 500;
    const connect = () => {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/ws");
      ws.onopen = () => { backoff = 500; refresh(); };
      ws.onmessage = (e) => {
        try { if (JSON.parse(e.data).type === "queue") refresh(); } catch (_) { /* not ours */ }
      };
      ws.onclose = (e) => {
        if (e.code === 4401) return; // the session ended: the next page asks to log in
        setTimeout(connect, Math.min((backoff *= 2), 15000));
      };
    };
    connect();
  }
}
