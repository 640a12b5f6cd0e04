/**
 * Pixel data of one single-frame image to Hounsfield units: decode (native little/big endian, RLE,
 * JPEG baseline/lossless, JPEG-LS, JPEG 2000), interpret stored values (BitsStored, HighBit,
 * PixelRepresentation, PS3.5 8.1.1 and PS3.3 C.7.6.3.1), then the modality LUT
 * HU = stored * RescaleSlope + RescaleIntercept (PS3.3 C.11.1.1.2).
 */
import type { DataSet } from 'dicom-parser';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';
import { decodeJpeg2000, decodeJpegBaseline, decodeJpegLossless, decodeJpegLs, type DecodedFrame } from './codecs/wasm.js';
import { decodeRle } from './codecs/rle.js';
import { dicomParser, parseDicomBytes } from './parse.js';
import { pixelEncoding, transferSyntaxName } from './transfer-syntax.js';

export interface PixelLayout {
  rows: number;
  columns: number;
}

function us(ds: DataSet, tag: string): number | undefined {
  try {
    return ds.uint16(tag);
  } catch {
    return undefined;
  }
}

function ds1(ds: DataSet, tag: string, fallback: number): number {
  const s = ds.string(tag);
  if (!s) return fallback;
  const v = Number(s.split('\\')[0]);
  return Number.isFinite(v) ? v : fallback;
}

/** The encapsulated frame of a single-frame image: all fragments concatenated (PS3.5 A.4). */
function encapsulatedFrame(ds: DataSet, file: string): Uint8Array {
  const el = ds.elements.x7fe00010!;
  const fragments = el.fragments ?? [];
  if (fragments.length === 0) throw new InputError(`encapsulated pixel data without fragments in ${file}`, { file });
  return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length);
}

/**
 * JPEG (ITU T.81 B.2.1), JPEG-LS (T.87) and JPEG 2000 (T.800 A.4.4) codestreams end with the marker
 * FFD9 (EOI / EOC), followed at most by the zero byte that pads a fragment to even length. Without it
 * the stream is cut; the CharLS decoder was seen to loop forever on such a stream, so it is refused
 * before any decoder sees it.
 */
function checkEndMarker(frame: Uint8Array, file: string): void {
  let end = frame.length;
  while (end > 0 && frame[end - 1] === 0) end--;
  if (end < 2 || frame[end - 2] !== 0xff || frame[end - 1] !== 0xd9) {
    throw new InputError(`truncated compressed pixel data in ${file}: the codestream does not end with its end-of-image marker (FFD9)`, { file });
  }
}

async function decodeCompressed(ds: DataSet, ts: string, file: string, layout: PixelLayout, bytesPerSample: number): Promise<DecodedFrame> {
  const frame = encapsulatedFrame(ds, file);
  if (pixelEncoding(ts) !== 'rle') checkEndMarker(frame, file);
  switch (pixelEncoding(ts)) {
    case 'rle':
      return { bytes: decodeRle(frame, layout.rows * layout.columns, bytesPerSample, file), width: layout.columns, height: layout.rows, bitsPerSample: bytesPerSample * 8 };
    case 'jpeg2000':
      return decodeJpeg2000(frame, file);
    case 'jpeg-ls':
      return decodeJpegLs(frame, file);
    case 'jpeg-baseline':
      return decodeJpegBaseline(frame, file);
    case 'jpeg-lossless':
      return decodeJpegLossless(frame, bytesPerSample, layout.columns, layout.rows, file);
    default:
      throw new InputError(`unsupported transfer syntax ${transferSyntaxName(ts)} in ${file}`, { file });
  }
}

/**
 * Decodes the file's pixels into `out[offset .. offset + rows*columns)` as HU. Throws InputError
 * naming the file when it cannot (corrupt stream, size differs from the series, ...).
 */
export async function decodeSliceHu(file: string, layout: PixelLayout, out: Float32Array, offset: number, scratch?: Scratch): Promise<void> {
  out.set((await decodeSliceFile(file, layout, scratch)).data, offset);
}

/**
 * One slice in HU. Integral CT (integer RescaleSlope and RescaleIntercept, every value within
 * int16) stays int16: the modality LUT then gives integers, so the samples are exactly the values a
 * float32 decode holds, at half the memory. Anything else (a fractional slope, values past int16)
 * is float32.
 */
export type SliceSamples = { kind: 'int16'; data: Int16Array } | { kind: 'float32'; data: Float32Array };

/** Reads the file (one read) and decodes its pixels; errors name the file. */
export async function decodeSliceFile(file: string, layout: PixelLayout, scratch?: Scratch): Promise<SliceSamples> {
  const bytes = readWhole(file, scratch);
  return toHu(file, layout, await decodeFrameOf(bytes, file, layout), scratch?.spare);
}

/** Decodes pixels from a whole file's bytes; errors name the file. */
export async function decodeSliceBytes(bytes: Uint8Array, file: string, layout: PixelLayout): Promise<SliceSamples> {
  return toHu(file, layout, await decodeFrameOf(bytes, file, layout));
}

/** A reusable read buffer for sequential slice decoding (saves an allocation and GC per slice). */
export interface Scratch {
  buf: Buffer;
  /** Buffers of earlier int16 results handed back (decode-pool.ts): reused for the next outputs. */
  spare?: ArrayBuffer[];
}

export function newScratch(): Scratch {
  return { buf: Buffer.allocUnsafe(0) };
}

/*
 * Synchronous: one 0.5 MB read is cheaper than its thread-pool round trip; callers run off the UI
 * thread. With a scratch buffer, the bytes are valid only until the next call with the same scratch.
 */
function readWhole(file: string, scratch?: Scratch): Uint8Array {
  try {
    if (!scratch) return readFileSync(file);
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (scratch.buf.length < size) scratch.buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const n = readSync(fd, scratch.buf, got, size - got, got);
        if (n === 0) break;
        got += n;
      }
      return scratch.buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new InputError(`cannot read ${file}: ${(e as Error).message}`, { file });
  }
}

interface FrameData {
  ds: DataSet;
  /** Sample bytes in the byte order `bigEndian` says. */
  bytes: Uint8Array;
  bigEndian: boolean;
  bitsAllocated: number;
}

async function decodeFrameOf(bytes: Uint8Array, file: string, layout: PixelLayout): Promise<FrameData> {
  const { dataSet: ds, transferSyntax: ts } = parseDicomBytes(bytes, file);
  const rows = us(ds, 'x00280010') ?? 0;
  const columns = us(ds, 'x00280011') ?? 0;
  if (rows !== layout.rows || columns !== layout.columns) {
    throw new InputError(`image is ${columns}x${rows}, the series is ${layout.columns}x${layout.rows}: ${file}`, { file });
  }
  const bitsAllocated = us(ds, 'x00280100') ?? 16;
  const bytesPerSample = bitsAllocated / 8;
  const el = ds.elements.x7fe00010;
  if (!el) throw new InputError(`no pixel data in ${file}`, { file });
  const n = rows * columns;
  const enc = pixelEncoding(ts);
  if (enc === 'native' || enc === 'native-be') {
    const need = n * bytesPerSample;
    if (el.dataOffset + need > ds.byteArray.length || el.length < need) {
      throw new InputError(`truncated pixel data in ${file}`, { file });
    }
    return { ds, bytes: ds.byteArray.subarray(el.dataOffset, el.dataOffset + need), bigEndian: enc === 'native-be', bitsAllocated };
  }
  const f = await decodeCompressed(ds, ts, file, layout, bytesPerSample);
  if (f.width !== columns || f.height !== rows) {
    throw new InputError(`compressed frame is ${f.width}x${f.height}, header says ${columns}x${rows}: ${file}`, { file });
  }
  const frameBytes = f.bitsPerSample > 8 ? 2 : 1;
  if (f.bytes.length < n * frameBytes) throw new InputError(`compressed frame decodes to too few bytes in ${file}`, { file });
  return { ds, bytes: f.bytes, bigEndian: false, bitsAllocated: frameBytes * 8 };
}

type Stored = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/**
 * Stored values as integers: the low BitsStored bits (HighBit = BitsStored - 1 in every CT we have
 * seen), masked, and sign-extended when PixelRepresentation is 1 (PS3.5 8.1.1). The common case,
 * 16 bits stored in 16 little-endian, is a view of the bytes, not a copy.
 */
function storedValues(f: FrameData, n: number, signed: boolean, bitsStored: number, file: string): Stored {
  const b = f.bytes;
  const shift = 32 - bitsStored;
  if (f.bitsAllocated === 16) {
    let raw: Uint16Array;
    if (!f.bigEndian) {
      const aligned = b.byteOffset % 2 === 0 ? b : new Uint8Array(b);
      if (bitsStored === 16) return signed ? new Int16Array(aligned.buffer, aligned.byteOffset, n) : new Uint16Array(aligned.buffer, aligned.byteOffset, n);
      raw = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
    } else {
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      raw = new Uint16Array(n);
      for (let i = 0; i < n; i++) raw[i] = view.getUint16(2 * i, false);
      if (bitsStored === 16) return signed ? new Int16Array(raw.buffer) : raw;
    }
    if (signed) {
      const o = new Int16Array(n);
      for (let i = 0; i < n; i++) o[i] = (raw[i]! << shift) >> shift;
      return o;
    }
    const o = new Uint16Array(n);
    const mask = (1 << bitsStored) - 1;
    for (let i = 0; i < n; i++) o[i] = raw[i]! & mask;
    return o;
  }
  if (f.bitsAllocated === 8) {
    const o = signed ? new Int8Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) o[i] = signed ? (b[i]! << shift) >> shift : (b[i]! << shift) >>> shift;
    return o;
  }
  if (f.bitsAllocated === 32) {
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const le = !f.bigEndian;
    const o = signed ? new Int32Array(n) : new Uint32Array(n);
    for (let i = 0; i < n; i++) o[i] = signed ? view.getInt32(4 * i, le) : view.getUint32(4 * i, le);
    return o;
  }
  throw new InputError(`unsupported BitsAllocated ${f.bitsAllocated} in ${file}`, { file });
}

/** The modality LUT, HU = stored * RescaleSlope + RescaleIntercept (PS3.3 C.11.1.1.2), into int16 when it stays integral. */
function toHu(file: string, layout: PixelLayout, f: FrameData, spare?: ArrayBuffer[]): SliceSamples {
  const { ds } = f;
  const n = layout.rows * layout.columns;
  const signed = (us(ds, 'x00280103') ?? 0) === 1;
  const bitsStored = Math.min(us(ds, 'x00280101') ?? f.bitsAllocated, f.bitsAllocated);
  const slope = ds1(ds, 'x00281053', 1);
  const intercept = ds1(ds, 'x00281052', 0);
  // The header check refuses these at import; a file changed since then is refused here too.
  if (slope === 0) throw new InputError(`RescaleSlope (0028,1053) is 0 in ${file}: not a usable modality LUT`, { file });
  const src = storedValues(f, n, signed, bitsStored, file);
  if (Number.isInteger(slope) && Number.isInteger(intercept)) {
    const reuse = spare?.pop();
    const o = reuse?.byteLength === 2 * n ? new Int16Array(reuse) : new Int16Array(n);
    if (slope === 1 && f.bitsAllocated <= 16 && Math.abs(intercept) < 2 ** 30) {
      // The common case, branch-free (the cheapest measured): `out` collects the bits above int16
      // of v + 32768, zero exactly when every v is in [-32768, 32767] (no wrap: |v| < 2^31 here).
      let out = 0;
      for (let i = 0; i < n; i++) {
        const v = src[i]! + intercept;
        o[i] = v;
        out |= (v + 32768) >>> 16;
      }
      if (out === 0) return { kind: 'int16', data: o };
    } else {
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < n; i++) {
        const v = src[i]! * slope + intercept;
        o[i] = v;
        if (v < lo) lo = v;
        else if (v > hi) hi = v;
      }
      if (lo >= -32768 && hi <= 32767) return { kind: 'int16', data: o };
    }
    // Values past int16 wrapped in `o`: the slice is float32 after all.
  }
  // Computed in double and rounded once to float32, as the float32 decode always was.
  const o = new Float32Array(n);
  for (let i = 0; i < n; i++) o[i] = src[i]! * slope + intercept;
  return { kind: 'float32', data: o };
}
