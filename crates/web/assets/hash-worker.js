// Rempart: hashes a picture in a worker, on the young person's device: SHA-256, MD5 and PDQ
// (the rempart-pdq crate built for wasm32, bit-exact with the server). Nothing of the
// picture leaves the device; the page stays responsive meanwhile. The module is loaded as
// soon as the worker starts, before a file is picked.
import { hashFile, loadPdq } from './pdq.js';

const warm = loadPdq().catch(() => null);

self.onmessage = async (event) => {
  const { id, file } = event.data;
  const started = performance.now();
  try {
    await warm;
    const r = await hashFile(file);
    const ms = performance.now() - started;
    const wasm = await loadPdq();
    self.postMessage({ id, ok: true, sha256: r.sha256, md5: r.md5, pdq: r.pdq, quality: r.quality, width: r.width, height: r.height, ms, wasmBytes: wasm.memory.buffer.byteLength });
  } catch (e) {
    self.postMessage({ id, ok: false, error: String((e && e.message) || e) });
  }
};
