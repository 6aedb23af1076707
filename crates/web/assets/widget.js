// Rempart chat widget loader: one <script src=".../assets/widget.js" data-rempart> tag.
// It adds a button that opens the chat in a frame served by Rempart itself, and obeys
// the frame's quick-exit request (only from that frame's origin). When the browser refuses
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
  button.style.cssText = "position:fixed;right:12px;bottom:12px;z-index:2147483646;padding:12px 16px;border:0;border-radius:24px;" +
    "background:#2b4c7e;color:#fff;font:600 16px system-ui,sans-serif;cursor:pointer;min-height:44px;box-shadow:0 2px 8px rgba(0,0,0,.3)";
  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "rempart-chat";
      frame.title = label;
      frame.src = origin + "/widget/frame?lang=" + lang;
      frame.style.cssText = "position:fixed;right:12px;bottom:72px;z-index:2147483647;width:380px;height:600px;max-width:calc(100vw - 24px);" +
        "max-height:calc(100vh - 84px);border:1px solid #8a949e;border-radius:12px;background:#fff;box-shadow:0 4px 16px rgba(0,0,0,.3)";
      if (window.matchMedia("(max-width: 480px)").matches) {
        frame.style.cssText += ";right:0;bottom:0;width:100vw;height:100vh;max-width:100vw;max-height:100vh;border-radius:0";
      }
      document.body.appendChild(frame);
    }
    frame.hidden = false;
    button.setAttribute("aria-expanded", "true");
    frame.focus();
  }
  button.addEventListener("click", open);
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return; // only our frame
    var d = e.data || {};
    if (d.type === "rempart-restore") {
      var k = kept();
      frame.contentWindow.postMessage({ type: "rempart-kept", chat: k.chat || null, device: k.device || null }, origin);
    } else if (d.type === "rempart-keep") {
      keep(d);
    } else if (d.type === "rempart-minimise") {
      frame.hidden = true;
      button.setAttribute("aria-expanded", "false");
      button.focus();
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
