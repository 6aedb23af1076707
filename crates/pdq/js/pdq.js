// Rempart: hash an image in the victim's own browser; nothing is uploaded.
//
//   import { hashFile } from './pdq.js';
//   const { pdq, quality, sha256, md5 } = await hashFile(input.files[0]);
//
// PDQ runs in rempart_pdq.wasm (the rempart-pdq Rust crate built for
// wasm32-unknown-unknown by build-wasm.sh; bit-exact with the server). PNGs are decoded
// in the module by the server's own PNG code (exact pixels); JPEG and WebP by the
// browser's WebCodecs ImageDecoder, copied into the module a slice of rows at a time, or
// through a canvas where WebCodecs is missing (and GIF always) — see docs/pdq.md for the
// caveats: JPEG decoders differ slightly, alpha.
// SHA-256 comes from WebCrypto (needs a secure context: https or localhost); MD5, which
// WebCrypto lacks, from the wasm module.

let modulePromise = null;

/** Loads (once) and returns the wasm exports. */
export function loadPdq(url = new URL('./rempart_pdq.wasm', import.meta.url)) {
  if (!modulePromise) {
    modulePromise = (async () => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`cannot load ${url}: ${response.status}`);
      const { instance } = await WebAssembly.instantiate(await response.arrayBuffer(), {});
      return instance.exports;
    })();
    modulePromise.catch(() => { modulePromise = null; });
  }
  return modulePromise;
}

function copyIn(wasm, bytes) {
  const ptr = wasm.pdq_input(bytes.length);
  if (ptr === 0 && bytes.length > 0) throw new Error('out of memory in the PDQ module');
  // Take the view after pdq_input: growing memory detaches older views.
  new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
}

function readOut(wasm) {
  const bytes = new Uint8Array(wasm.memory.buffer, wasm.pdq_output_ptr(), wasm.pdq_output_len());
  return new TextDecoder().decode(bytes);
}

/**
 * PDQ of RGBA pixels (e.g. ImageData.data). Returns { pdq, quality } and, with
 * { dihedral: true }, also `dihedral`: the 8 hashes orig, rot90, rot180, rot270, flipx,
 * flipy, flipp, flipm.
 */
export async function hashPixels(rgba, width, height, { dihedral = false } = {}) {
  const wasm = await loadPdq();
  if (rgba.length !== width * height * 4) throw new Error('pixel buffer does not match the image size');
  // by slices of rows: the module holds a few rows, never the whole picture
  if (wasm.pdq_stream_begin(width, height) < 0) throw new Error('pixel buffer does not match the image size');
  const line = width * 4;
  const slice = Math.max(1, Math.min(height, Math.floor((1 << 20) / line)));
  for (let y = 0; y < height; y += slice) {
    const rows = Math.min(slice, height - y);
    copyIn(wasm, rgba.subarray(y * line, (y + rows) * line));
    if (wasm.pdq_stream_push(rows) < 0) throw new Error('pixel buffer does not match the image size');
  }
  const quality = wasm.pdq_stream_end(dihedral ? 1 : 0);
  if (quality < 0) throw new Error('pixel buffer does not match the image size');
  const text = readOut(wasm);
  const result = { pdq: text.slice(0, 64), quality };
  if (dihedral) result.dihedral = Array.from({ length: 8 }, (_, k) => text.slice(64 * k, 64 * k + 64));
  return result;
}

/** MD5 (hex) of bytes. */
export async function md5Hex(bytes) {
  const wasm = await loadPdq();
  copyIn(wasm, bytes);
  wasm.pdq_md5();
  return readOut(wasm);
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Decodes an image Blob with the browser into RGBA bytes of the *stored* pixels: no
 * EXIF rotation (Rempart's policy, as the reference tools), no colour-space conversion,
 * no premultiplication where the browser honours it.
 */
export async function decodePixels(blob) {
  const options = { premultiplyAlpha: 'none', colorSpaceConversion: 'none', imageOrientation: 'none' };
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, options);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    // Older engines without imageOrientation 'none': 'from-image' is their default.
    bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  }
  const { width, height } = bitmap;
  const canvas = typeof OffscreenCanvas === 'function'
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const data = ctx.getImageData(0, 0, width, height).data;
  return { rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}

/** The image type of file bytes, from their magic numbers ('' when not JPEG or WebP). */
function codecType(bytes) {
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  const tag = (o) => String.fromCharCode(...bytes.subarray(o, o + 4));
  if (bytes.length > 12 && tag(0) === 'RIFF' && tag(8) === 'WEBP') return 'image/webp';
  return '';
}

/**
 * Decodes with WebCodecs' ImageDecoder and copies the stored pixels, a slice of rows at a
 * time, straight into the module (no canvas, no copy of the whole picture in the page).
 * Returns null when this browser cannot (no ImageDecoder, a type it does not take, a frame
 * that says it is rotated, a copy it refuses): the caller then decodes through a canvas.
 */
async function hashWithImageDecoder(wasm, bytes, dihedral) {
  const type = codecType(bytes);
  if (!type || typeof ImageDecoder !== 'function') return null;
  let decoder = null;
  let frame = null;
  try {
    if (!(await ImageDecoder.isTypeSupported(type))) return null;
    decoder = new ImageDecoder({ data: bytes, type, colorSpaceConversion: 'none', preferAnimation: false });
    ({ image: frame } = await decoder.decode({ frameIndex: 0 }));
    // the stored pixels only (Rempart's policy: no EXIF rotation)
    if (frame.rotation || frame.flip) return null;
    const width = frame.displayWidth;
    const height = frame.displayHeight;
    if (wasm.pdq_stream_begin(width, height) < 0) return null;
    const line = width * 4;
    let slice = Math.max(2, Math.min(height, Math.floor((1 << 20) / line)));
    slice -= slice % 2; // subsampled chroma copies by pairs of rows
    for (let y = 0; y < height; y += slice) {
      const rows = Math.min(slice, height - y);
      const ptr = wasm.pdq_input(rows * line);
      if (ptr === 0) return null;
      await frame.copyTo(new Uint8Array(wasm.memory.buffer, ptr, rows * line), { rect: { x: 0, y, width, height: rows }, format: 'RGBA', colorSpace: 'srgb' });
      if (wasm.pdq_stream_push(rows) < 0) return null;
    }
    const quality = wasm.pdq_stream_end(dihedral ? 1 : 0);
    if (quality < 0) return null;
    return { quality, width, height };
  } catch {
    return null;
  } finally {
    frame?.close();
    decoder?.close();
  }
}

/**
 * Hashes a user-picked File/Blob locally: { pdq, quality, sha256, md5, width, height }.
 * Only these values should ever leave the device.
 */
export async function hashFile(file, { dihedral = false } = {}) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const sha256 = await sha256Hex(bytes);
  const wasm = await loadPdq();
  copyIn(wasm, bytes);
  wasm.pdq_md5();
  const md5 = readOut(wasm);
  const isPng = bytes.length > 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b);
  if (isPng) {
    // PNG: decoded inside the module with the server's code, so the pixels (16-bit
    // grey, alpha) are exactly the server's, and hashed row by row as they are decoded.
    // The input buffer still holds the file.
    const quality = wasm.pdq_hash_png(dihedral ? 1 : 0);
    if (quality >= 0) {
      const text = readOut(wasm);
      const result = { pdq: text.slice(0, 64), quality, sha256, md5, width: wasm.pdq_width(), height: wasm.pdq_height(), decoder: 'wasm-png' };
      if (dihedral) result.dihedral = Array.from({ length: 8 }, (_, k) => text.slice(64 * k, 64 * k + 64));
      return result;
    }
  }
  // JPEG, WebP: WebCodecs straight into the module where the browser has it
  const viaCodecs = await hashWithImageDecoder(wasm, bytes, dihedral);
  if (viaCodecs) {
    const text = readOut(wasm);
    const result = { pdq: text.slice(0, 64), quality: viaCodecs.quality, sha256, md5, width: viaCodecs.width, height: viaCodecs.height, decoder: 'webcodecs' };
    if (dihedral) result.dihedral = Array.from({ length: 8 }, (_, k) => text.slice(64 * k, 64 * k + 64));
    return result;
  }
  const { rgba, width, height } = await decodePixels(file);
  const result = await hashPixels(rgba, width, height, { dihedral });
  return { ...result, sha256, md5, width, height, decoder: 'browser' };
}
