/**
 * RLE Lossless decoding, PS3.5 Annex G: a 64-byte header (segment count, then up to 15 segment
 * offsets), one PackBits-coded segment per byte plane, most significant plane first (G.2). A 16-bit
 * grey image has two segments: the high bytes of every pixel, then the low bytes.
 */
import { InputError } from '../../errors.js';

/** Decodes one RLE frame to little-endian pixel bytes (pixels * bytesPerSample). */
export function decodeRle(frame: Uint8Array, pixels: number, bytesPerSample: number, file = ''): Uint8Array {
  if (frame.length < 64) throw new InputError(`RLE frame shorter than its 64-byte header in ${file}`, { file });
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== bytesPerSample) {
    throw new InputError(`RLE frame has ${segments} segments, expected ${bytesPerSample} in ${file}`, { file });
  }
  const out = new Uint8Array(pixels * bytesPerSample);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > frame.length || end > frame.length || end < start) {
      throw new InputError(`RLE segment ${s} offsets out of range in ${file}`, { file });
    }
    // Segment s holds byte (bytesPerSample - 1 - s) of each little-endian sample.
    const byteIndex = bytesPerSample - 1 - s;
    let p = start;
    let n = 0;
    while (p < end && n < pixels) {
      const h = (frame[p++]! << 24) >> 24; // signed header byte
      if (h >= 0) {
        const count = Math.min(h + 1, end - p, pixels - n);
        for (let c = 0; c < count; c++) out[(n++) * bytesPerSample + byteIndex] = frame[p++]!;
      } else if (h !== -128) {
        if (p >= end) break;
        const v = frame[p++]!;
        const count = Math.min(1 - h, pixels - n);
        for (let c = 0; c < count; c++) out[(n++) * bytesPerSample + byteIndex] = v;
      }
    }
    if (n < pixels) throw new InputError(`RLE segment ${s} decodes to ${n} of ${pixels} pixels in ${file}`, { file });
  }
  return out;
}
