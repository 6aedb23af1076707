// Passkeys in the console (WebAuthn needs the browser's script): register one on the
// account page, or use it after the password. The server keeps each ceremony's state;
// this script only carries the options to the browser and its answer back.
const root = document.getElementById("passkey");
// JSON options may carry nulls where WebAuthn wants absent members
const strip = (v) => {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === "object") {
    const o = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) o[k] = strip(x);
    return o;
  }
  return v;
};
if (root && window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON) {
  const csrf = root.dataset.csrf;
  const status = document.getElementById("passkey-status");
  const button = document.getElementById("passkey-button");
  const post = async (url, body) => {
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body ?? {}),
      credentials: "same-origin",
      cache: "no-store",
    });
    const d = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(d.error || "HTTP " + r.status);
    return d;
  };
  button.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = root.dataset.working;
    try {
      let next;
      if (root.dataset.mode === "register") {
        const o = await post("/account/passkeys/options");
        const cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(strip(o.publicKey)) });
        const name = (document.getElementById("passkey-name")?.value || "").trim() || root.dataset.defaultName;
        next = (await post("/account/passkeys", { name, credential: cred.toJSON() })).next;
      } else {
        const o = await post("/login/passkey/options");
        const cred = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(strip(o.publicKey)) });
        next = (await post("/login/passkey", { credential: cred.toJSON() })).next;
      }
      status.textContent = root.dataset.done;
      location.assign(next);
    } catch (e) {
      status.textContent = e && e.message === "unauthenticated" ? root.dataset.again : root.dataset.failed;
      button.disabled = false;
    }
  });
}
