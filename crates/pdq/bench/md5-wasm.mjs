// MD5 throughput of the browser module under Node (same wasm engine family as Chromium).
import fs from 'node:fs';
const bytes = fs.readFileSync(process.argv[2]);
const { instance } = await WebAssembly.instantiate(bytes, {});
const w = instance.exports;
const size = 32 * 1024 * 1024;
const data = new Uint8Array(size);
for (let i = 0; i < size; i++) data[i] = (i * 2654435761) >>> 24;
const ptr = w.pdq_input(size);
new Uint8Array(w.memory.buffer, ptr, size).set(data);
w.pdq_md5();
const runs = [];
for (let r = 0; r < 7; r++) {
  const t = process.hrtime.bigint();
  w.pdq_md5();
  runs.push(Number(process.hrtime.bigint() - t) / 1e6);
}
runs.sort((a, b) => a - b);
const out = new TextDecoder().decode(new Uint8Array(w.memory.buffer, w.pdq_output_ptr(), w.pdq_output_len()));
console.log(`${process.argv[2].split('/').pop()}: ${bytes.length} bytes, md5 ${out}, median ${runs[3].toFixed(1)} ms for 32 MiB = ${(32 / (runs[3] / 1000)).toFixed(0)} MiB/s`);
