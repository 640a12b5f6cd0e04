/**
 * Seeded mutators for the fuzz harness: byte-level (flips, overwrites, inserts, deletes, cuts) and
 * DICOM structure-aware (element lengths, VRs, values of the image pixel module, sequences nested
 * 1,000 deep, undefined lengths, huge allocations, NumberOfFrames 10^6, Rows 0, encapsulated
 * fragments cut and offset tables lying). Deterministic: the same seed gives the same case.
 */
export type Rng = () => number;

/** Mulberry32. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (r: Rng, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const INTERESTING32 = [0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export function byteMutate(r: Rng, src: Uint8Array): Uint8Array {
  let b: Uint8Array = Uint8Array.from(src);
  const rounds = 1 + int(r, 4);
  for (let n = 0; n < rounds && b.length > 0; n++) {
    const at = int(r, b.length);
    switch (int(r, 7)) {
      case 0: b[at] = b[at]! ^ (1 << int(r, 8)); break;
      case 1: b[at] = int(r, 256); break;
      case 2: { // 32-bit interesting value
        const v = pick(r, INTERESTING32);
        for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
        break;
      }
      case 3: { // delete a run
        const len = 1 + int(r, 64);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + len))]);
        break;
      }
      case 4: { // insert random bytes
        const ins = Uint8Array.from({ length: 1 + int(r, 64) }, () => int(r, 256));
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 5: b = b.slice(0, at); break; // cut
      default: { // duplicate a chunk
        const len = 1 + int(r, 256);
        b = concat(b.subarray(0, at), b.subarray(at, at + len), b.subarray(at));
      }
    }
  }
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---- DICOM elements ----

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

export interface El {
  tag: number; // group << 16 | element
  at: number; // first byte of the tag
  vr: string | null; // null: implicit VR
  lenAt: number;
  lenSize: 2 | 4;
  valueAt: number;
  length: number;
  end: number;
}

/** Top-level elements (meta group and dataset), explicit or implicit VR little endian; stops at the first undefined length it cannot skip. */
export function elementsOf(b: Uint8Array): El[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d ? 132 : 0;
  const out: El[] = [];
  while (p + 8 <= b.length) {
    const tag = (dv.getUint16(p, true) << 16) | dv.getUint16(p + 2, true);
    const c0 = b[p + 4]!;
    const c1 = b[p + 5]!;
    const explicit = c0 >= 0x41 && c0 <= 0x5a && c1 >= 0x41 && c1 <= 0x5a;
    let el: El;
    if (explicit) {
      const vr = String.fromCharCode(c0, c1);
      if (LONG_VRS.has(vr)) {
        if (p + 12 > b.length) break;
        el = { tag, at: p, vr, lenAt: p + 8, lenSize: 4, valueAt: p + 12, length: dv.getUint32(p + 8, true), end: 0 };
      } else el = { tag, at: p, vr, lenAt: p + 6, lenSize: 2, valueAt: p + 8, length: dv.getUint16(p + 6, true), end: 0 };
    } else el = { tag, at: p, vr: null, lenAt: p + 4, lenSize: 4, valueAt: p + 8, length: dv.getUint32(p + 4, true), end: 0 };
    if (el.length === 0xffffffff) {
      el.end = b.length;
      out.push(el);
      break;
    }
    el.end = el.valueAt + el.length;
    out.push(el);
    p = el.end;
  }
  return out;
}

function setLength(b: Uint8Array, el: El, v: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (el.lenSize === 2) dv.setUint16(el.lenAt, v & 0xffff, true);
  else dv.setUint32(el.lenAt, v >>> 0, true);
}

/** Replaces an element's value (and its length field); text values padded to even length. */
export function setValue(b: Uint8Array, el: El, value: Uint8Array): Uint8Array {
  const v = value.length % 2 === 1 ? concat(value, Uint8Array.of(0x20)) : value;
  const head = Uint8Array.from(b.subarray(el.at, el.valueAt));
  const out = concat(b.subarray(0, el.at), head, v, b.subarray(Math.min(el.end, b.length)));
  setLength(out, { ...el }, v.length);
  return out;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function explicitEl(group: number, element: number, vr: string, value: Uint8Array, long = LONG_VRS.has(vr)): Uint8Array {
  const h = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, group, true);
  dv.setUint16(2, element, true);
  h[4] = vr.charCodeAt(0);
  h[5] = vr.charCodeAt(1);
  if (long) dv.setUint32(8, value.length, true);
  else dv.setUint16(6, value.length, true);
  return concat(h, value);
}

function rawTag(group: number, element: number, len: number): Uint8Array {
  const h = new Uint8Array(8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, group, true);
  dv.setUint16(2, element, true);
  dv.setUint32(4, len >>> 0, true);
  return h;
}

/** A sequence nested `depth` deep, undefined lengths throughout, delimited properly. */
export function deepSequence(depth: number, explicit: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < depth; i++) {
    if (explicit) {
      const h = new Uint8Array(12);
      const dv = new DataView(h.buffer);
      dv.setUint16(0, 0x0008, true);
      dv.setUint16(2, 0x1115, true);
      h[4] = 0x53; h[5] = 0x51; // SQ
      dv.setUint32(8, 0xffffffff, true);
      parts.push(h);
    } else parts.push(rawTag(0x0008, 0x1115, 0xffffffff));
    parts.push(rawTag(0xfffe, 0xe000, 0xffffffff));
  }
  for (let i = 0; i < depth; i++) parts.push(rawTag(0xfffe, 0xe00d, 0), rawTag(0xfffe, 0xe0dd, 0));
  return concat(...parts);
}

const PIXEL_MODULE = new Map<number, string>([
  [0x00280010, 'Rows'], [0x00280011, 'Columns'], [0x00280100, 'BitsAllocated'], [0x00280101, 'BitsStored'],
  [0x00280102, 'HighBit'], [0x00280103, 'PixelRepresentation'], [0x00280002, 'SamplesPerPixel'],
]);
const NUMERIC_TEXT = new Set([0x00200032, 0x00200037, 0x00280030, 0x00281053, 0x00281052, 0x00180050, 0x00200013, 0x00280008]);
const US_VALUES = [0, 1, 7, 8, 12, 15, 16, 17, 32, 64, 4097, 65535];
const TEXT_VALUES = ['0', '-0', 'NaN', 'Infinity', '-1e308', '1e308', '1\\0\\0\\0\\0\\0', '0\\0\\0\\0\\0\\0', '', '1000000', 'abc', '1\\1\\1\\1\\1\\1'];
const VRS = ['SQ', 'UN', 'OB', 'OW', 'US', 'UL', 'FD', 'DS', 'XX', 'ox'];
export const COMPRESSED_TS = ['1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91'];

/** One structure-aware DICOM mutation (sometimes two), falling back to a byte mutation when the file has no walkable elements. */
export function dicomMutate(r: Rng, src: Uint8Array): Uint8Array {
  let b: Uint8Array = Uint8Array.from(src);
  const rounds = 1 + int(r, 2);
  for (let n = 0; n < rounds; n++) {
    const els = elementsOf(b).filter((e) => e.end <= b.length);
    if (els.length === 0) return byteMutate(r, b);
    const explicit = els.some((e) => e.vr !== null && e.tag >>> 16 !== 2);
    const el = pick(r, els);
    switch (int(r, 10)) {
      case 0: setLength(b, el, pick(r, [0, 1, el.length + 2, el.length * 1000, 0xffffffff, 0x7fffffff, 0xfffffff0, 0xfffe])); break;
      case 1: if (el.vr) { const v = pick(r, VRS); b[el.at + 4] = v.charCodeAt(0); b[el.at + 5] = v.charCodeAt(1); } break;
      case 2: { // the image pixel module: Rows 0, BitsAllocated 7, ...
        const targets = els.filter((e) => PIXEL_MODULE.has(e.tag) && e.length === 2);
        if (targets.length > 0) new DataView(b.buffer).setUint16(pick(r, targets).valueAt, pick(r, US_VALUES), true);
        break;
      }
      case 3: { // numeric text: RescaleSlope 0, NaN positions, degenerate orientation
        const targets = els.filter((e) => NUMERIC_TEXT.has(e.tag));
        if (targets.length > 0) b = setValue(b, pick(r, targets), ascii(pick(r, TEXT_VALUES)));
        break;
      }
      case 4: { // NumberOfFrames 10^6 before Rows (or anywhere)
        const rows = els.find((e) => e.tag === 0x00280010) ?? el;
        const nf = explicit ? explicitEl(0x0028, 0x0008, 'IS', ascii('1000000 ')) : concat(rawTag(0x0028, 0x0008, 8), ascii('1000000 '));
        b = concat(b.subarray(0, rows.at), nf, b.subarray(rows.at));
        break;
      }
      case 5: { // a sequence nested 1,000 deep after the element
        b = concat(b.subarray(0, el.end), deepSequence(1000, explicit), b.subarray(el.end));
        break;
      }
      case 6: { // a huge allocation: an OB element declaring ~4 GB at the end, or an undefined-length SQ with no delimiter
        const tail = int(r, 2) === 0
          ? concat(explicit ? explicitEl(0x0009, 0x1001, 'OB', new Uint8Array(0)) : rawTag(0x0009, 0x1001, 0), new Uint8Array(16))
          : concat(rawTag(0x0008, 0x1140, 0xffffffff), rawTag(0xfffe, 0xe000, 0xffffffff), new Uint8Array(8));
        if (int(r, 2) === 0) new DataView(tail.buffer).setUint32(explicit ? 8 : 4, 0xfffffff0, true);
        b = concat(b, tail);
        break;
      }
      case 7: b = concat(b.subarray(0, el.at), b.subarray(el.end)); break; // drop an element
      case 8: b = b.slice(0, Math.max(0, el.at + int(r, Math.max(1, el.end - el.at)))); break; // cut inside an element
      default: b = concat(b.subarray(0, el.end), b.subarray(el.at, el.end), b.subarray(el.end)); // duplicate
    }
  }
  return b;
}

/** Encapsulated pixel data mutations: fragments cut, offset tables lying, delimiters lost, another codec's UID. */
export function encapsulatedMutate(r: Rng, src: Uint8Array): Uint8Array {
  let b: Uint8Array = Uint8Array.from(src);
  const els = elementsOf(b);
  const px = els.find((e) => e.tag === 0x7fe00010);
  if (!px || px.length !== 0xffffffff) return dicomMutate(r, b);
  const dv = new DataView(b.buffer);
  // Items after the pixel data header: Basic Offset Table, fragments, sequence delimiter.
  const items: { at: number; len: number }[] = [];
  for (let p = px.valueAt; p + 8 <= b.length; ) {
    const g = dv.getUint16(p, true);
    const e = dv.getUint16(p + 2, true);
    const len = dv.getUint32(p + 4, true);
    if (g !== 0xfffe || e !== 0xe000) break;
    items.push({ at: p, len });
    p += 8 + len;
  }
  if (items.length === 0) return byteMutate(r, b);
  const frag = pick(r, items.slice(items.length > 1 ? 1 : 0));
  switch (int(r, 7)) {
    case 0: { // cut a fragment short, keeping the rest of the file
      const keep = int(r, frag.len + 1);
      dv.setUint32(frag.at + 4, keep, true);
      b = concat(b.subarray(0, frag.at + 8 + keep), b.subarray(frag.at + 8 + frag.len));
      break;
    }
    case 1: { // the Basic Offset Table lies
      const bot = items[0]!;
      const n = 1 + int(r, 4);
      const table = new Uint8Array(4 * n);
      for (let i = 0; i < n; i++) new DataView(table.buffer).setUint32(4 * i, pick(r, INTERESTING32), true);
      b = concat(b.subarray(0, bot.at), rawTag(0xfffe, 0xe000, table.length), table, b.subarray(bot.at + 8 + bot.len));
      break;
    }
    case 2: dv.setUint32(frag.at + 4, pick(r, [frag.len + 2, frag.len * 2, 0xfffffff0, 1, 0xffffffff]), true); break; // fragment length lies
    case 3: b = b.slice(0, b.length - 8); break; // no sequence delimiter
    case 4: { // flip bytes inside the codestream
      for (let i = 0; i < 1 + int(r, 8); i++) {
        const at = frag.at + 8 + int(r, Math.max(1, frag.len));
        if (at < b.length) b[at] = int(r, 256);
      }
      break;
    }
    case 5: { // another compressed transfer syntax for the same bytes
      const ts = els.find((e) => e.tag === 0x00020010);
      if (ts) b = setValue(b, ts, ascii(pick(r, COMPRESSED_TS)));
      break;
    }
    default: { // the codestream truncated at a random point, delimiters kept
      const keep = int(r, frag.len + 1) & ~1;
      b = concat(b.subarray(0, frag.at), rawTag(0xfffe, 0xe000, keep), b.subarray(frag.at + 8, frag.at + 8 + keep), b.subarray(frag.at + 8 + frag.len));
    }
  }
  return b;
}
