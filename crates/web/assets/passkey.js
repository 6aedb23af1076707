// Passkeys in the console (WebAuthn needs the browser's script): register one on the
// account page, or use it after the password. The server keeps each ceremony's state;
// this script only carries the options to the browser and its answer back. Browsers
// without WebAuthn's JSON helpers (parse…OptionsFromJSON, toJSON: older Safari and Firefox)
// get the same conversion written out here.
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
// base64url (no padding) <-> bytes
const decode = (s) => {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
};
const encode = (buf) => {
  let s = "";
  for (const x of new Uint8Array(buf)) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};
const withIds = (list) => (list || []).map((c) => ({ ...c, id: decode(c.id) }));
function creationOptions(o) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(o);
  return { ...o, challenge: decode(o.challenge), user: { ...o.user, id: decode(o.user.id) }, excludeCredentials: withIds(o.excludeCredentials) };
}
function requestOptions(o) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(o);
  return { ...o, challenge: decode(o.challenge), allowCredentials: withIds(o.allowCredentials) };
}
function credentialJSON(c) {
  if (typeof c.toJSON === "function") return c.toJSON();
  const r = c.response;
  const response = { clientDataJSON: encode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = encode(r.attestationObject);
    if (typeof r.getTransports === "function") response.transports = r.getTransports();
  } else {
    response.authenticatorData = encode(r.authenticatorData);
    response.signature = encode(r.signature);
    response.userHandle = r.userHandle ? encode(r.userHandle) : null;
  }
  return { id: c.id, rawId: encode(c.rawId), type: c.type, response, clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {} };
}
if (root && window.PublicKeyCredential && navigator.credentials) {
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
        const cred = await navigator.credentials.create({ publicKey: creationOptions(strip(o.publicKey)) });
        const name = (document.getElementById("passkey-name")?.value || "").trim() || root.dataset.defaultName;
        next = (await post("/account/passkeys", { name, credential: credentialJSON(cred) })).next;
      } else {
        const o = await post("/login/passkey/options");
        const cred = await navigator.credentials.get({ publicKey: requestOptions(strip(o.publicKey)) });
        next = (await post("/login/passkey", { credential: credentialJSON(cred) })).next;
      }
      status.textContent = root.dataset.done;
      location.assign(next);
    } catch (e) {
      status.textContent = e && e.message === "unauthenticated" ? root.dataset.again : root.dataset.failed;
      button.disabled = false;
    }
  });
}
