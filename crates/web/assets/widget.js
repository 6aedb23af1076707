// Rempart chat widget loader: one <script src=".../assets/widget.js" data-rempart> tag.
// It adds a button that opens the chat in a frame served by Rempart itself (the button says
// whether it is open, `aria-expanded`, and closes it again), and obeys the frame's requests
// — minimise (the conversation kept, the focus back on the button), quick exit — only from
// that frame's origin. Escape on the site closes the open frame too. When the browser refuses
// the frame its own storage (third-party storage blocked), the loader keeps the frame's chat
// token and device key for it in this site's session storage — never a message's text —
// and forgets them at quick exit.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me) return;
  var origin = new URL(me.src, document.baseURI).origin;
  var lang = (me.getAttribute("data-lang") || document.documentElement.lang || "fr").slice(0, 2) === "en" ? "en" : "fr";
  var label = lang === "en" ? "Need help? Chat with us" : "Besoin d'aide ? Écris-nous";
  var frame = null;
  var KEEP = "rempart-chat-kept";
  function kept() {
    try { return JSON.parse(sessionStorage.getItem(KEEP) || "null") || {}; } catch (_) { return {}; }
  }
  function keep(d) {
    var v = {};
    if (typeof d.chat === "string" && d.chat.length <= 2048) v.chat = d.chat;
    if (typeof d.device === "string" && /^[0-9a-f]{64}$/.test(d.device)) v.device = d.device;
    try {
      if (v.chat || v.device) sessionStorage.setItem(KEEP, JSON.stringify(v));
      else sessionStorage.removeItem(KEEP);
    } catch (_) { /* refused here too: the conversation lasts as long as the frame */ }
  }
  function forget() {
    try { sessionStorage.removeItem(KEEP); } catch (_) { /* nothing kept */ }
  }
  var button = document.createElement("button");
  button.type = "button";
  button.id = "rempart-open";
  button.textContent = label;
  button.setAttribute("aria-haspopup", "dialog");
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "rempart-chat");
  button.style.cssText = "position:fixed;right:12px;bottom:12px;z-index:2147483646;padding:12px 16px;border:0;border-radius:24px;" +
    "background:#2b4c7e;color:#fff;font:600 16px system-ui,sans-serif;cursor:pointer;min-height:44px;min-width:44px;box-shadow:0 2px 8px rgba(0,0,0,.3)";
  // a focus ring whatever the site's styles: dark inside, white outside (≥ 3:1 on any page)
  button.addEventListener("focus", function () {
    var ring = true;
    try { ring = button.matches(":focus-visible"); } catch (_) { /* old browser: always */ }
    if (ring) { button.style.outline = "3px solid #1b1f24"; button.style.outlineOffset = "2px"; button.style.boxShadow = "0 0 0 7px #fff"; }
  });
  button.addEventListener("blur", function () {
    button.style.outline = ""; button.style.outlineOffset = ""; button.style.boxShadow = "0 2px 8px rgba(0,0,0,.3)";
  });
  function isOpen() { return !!frame && !frame.hidden; }
  // back to the site, the conversation kept in the hidden frame
  function close() {
    if (!frame) return;
    frame.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }
  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "rempart-chat";
      frame.title = label;
      frame.src = origin + "/widget/frame?lang=" + lang;
      frame.style.cssText = "position:fixed;right:12px;bottom:72px;z-index:2147483647;width:380px;height:600px;max-width:calc(100vw - 24px);" +
        "max-height:calc(100vh - 84px);border:1px solid #8a949e;border-radius:12px;background:#fff;box-shadow:0 4px 16px rgba(0,0,0,.3)";
      if (window.matchMedia("(max-width: 480px)").matches) {
        // the whole screen, the visible part of it where the browser knows it (dvh)
        frame.style.cssText += ";right:0;bottom:0;width:100vw;height:100vh;height:100dvh;max-width:100vw;max-height:100vh;max-height:100dvh;border:0;border-radius:0";
      }
      document.body.appendChild(frame);
    }
    frame.hidden = false;
    button.setAttribute("aria-expanded", "true");
    frame.focus();
  }
  button.addEventListener("click", function () { if (isOpen()) close(); else open(); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !e.shiftKey && isOpen()) close();
  });
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return; // only our frame
    var d = e.data || {};
    if (d.type === "rempart-restore") {
      var k = kept();
      frame.contentWindow.postMessage({ type: "rempart-kept", chat: k.chat || null, device: k.device || null }, origin);
    } else if (d.type === "rempart-keep") {
      keep(d);
    } else if (d.type === "rempart-minimise") {
      close();
    } else if (d.type === "rempart-quick-exit") {
      var to = typeof d.to === "string" && /^https:\/\//.test(d.to) ? d.to : "https://www.google.com/search?q=meteo";
      forget();
      frame.remove();
      window.location.replace(to);
    }
  });
  (document.body ? Promise.resolve() : new Promise(function (r) { document.addEventListener("DOMContentLoaded", r); }))
    .then(function () { document.body.appendChild(button); });
})();
