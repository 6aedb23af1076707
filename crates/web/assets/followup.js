// Rempart: the follow-up page's quick exit, and "send only the fingerprint" (on the
// follow-up page and in the console): the picked picture is hashed in a worker and only
// its fingerprints are put in the form; the file input has no name, so the file itself is
// never sent.

const exitForm = document.getElementById('quick-exit-form');
if (exitForm) {
  const leave = (event) => {
    if (event) event.preventDefault();
    try {
      navigator.sendBeacon(exitForm.action, new URLSearchParams(new FormData(exitForm)));
    } catch (_) { /* the page goes away all the same */ }
    window.location.replace(exitForm.dataset.exitUrl || 'https://www.google.com/');
  };
  exitForm.addEventListener('submit', leave);
  // Escape twice quickly, as in the chat
  let last = 0;
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    const now = Date.now();
    if (now - last < 800) leave();
    last = now;
  });
}

let worker = null;
let next = 0;
const waiting = new Map();
function hasher() {
  if (!worker) {
    worker = new Worker('/assets/hash-worker.js', { type: 'module' });
    worker.onmessage = (event) => {
      const done = waiting.get(event.data.id);
      waiting.delete(event.data.id);
      if (done) done(event.data);
    };
    // the worker or its module did not load: every waiting hash fails, and the next one
    // starts a new worker
    worker.onerror = () => {
      for (const done of waiting.values()) done({ ok: false, error: 'worker failed' });
      waiting.clear();
      worker = null;
    };
  }
  return worker;
}

const HASH_LIMIT_MS = 120000;

function hashInWorker(file) {
  return new Promise((resolve) => {
    const id = ++next;
    const timer = setTimeout(() => {
      waiting.delete(id);
      resolve({ ok: false, error: 'too long' });
    }, HASH_LIMIT_MS);
    waiting.set(id, (r) => { clearTimeout(timer); resolve(r); });
    hasher().postMessage({ id, file });
  });
}

for (const form of document.querySelectorAll('form.fingerprint-form')) {
  const picker = form.querySelector('input[type=file][data-no-upload]');
  const status = form.querySelector('[role=status]');
  const submit = form.querySelector('button[type=submit]');
  if (!picker) continue;
  // load the worker and its module now, so that hashing starts at once
  hasher();
  picker.addEventListener('change', async () => {
    const file = picker.files && picker.files[0];
    if (!file) return;
    if (submit) submit.disabled = true;
    if (status) status.textContent = form.dataset.hashing || '…';
    const r = await hashInWorker(file);
    if (!r.ok) {
      if (status) status.textContent = form.dataset.failed || r.error;
      return;
    }
    for (const [name, value] of [['sha256', r.sha256], ['md5', r.md5], ['pdq', r.pdq], ['pdq_quality', String(r.quality)]]) {
      const field = form.elements.namedItem(name);
      if (field) field.value = value;
    }
    // the file is forgotten: only the fingerprints stay in the form
    picker.value = '';
    if (status) status.textContent = form.dataset.ready || 'OK';
    form.dataset.hashMs = String(Math.round(r.ms));
    if (submit) submit.disabled = false;
  });
}
