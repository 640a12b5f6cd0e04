/**
 * Parsing a DICOM file's bytes with dicom-parser, tolerant of what real archives hold: files
 * without the 128-byte preamble and 'DICM' (PS3.10 7.1 makes it mandatory, older exports skip it),
 * files with the meta group but no preamble, raw datasets in implicit or explicit little endian or
 * explicit big endian, and deflated transfer syntax (PS3.5 A.5, raw deflate as zlib.inflateRawSync).
 * dicom-parser throws plain objects (`{exception, dataSet}`) and strings, not Errors: every failure
 * here becomes an InputError naming the file.
 */
import type { DataSet } from 'dicom-parser';
import { createRequire } from 'node:module';
import { inflateRawSync } from 'node:zlib';
import { InputError } from '../errors.js';

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
} as const;

// dicom-parser is a UMD bundle: require it so its exports do not depend on ESM interop detection.
const require = createRequire(import.meta.url);
export const dicomParser = require('dicom-parser') as typeof import('dicom-parser');

const PIXEL_DATA = 'x7fe00010';

function inflater(arr: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(arr.subarray(position));
  const out = Buffer.alloc(position + inflated.length);
  out.set(arr.subarray(0, position), 0);
  out.set(inflated, position);
  return out;
}

/** Describes whatever dicom-parser threw (an Error, a string, or `{exception, dataSet}`). */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (typeof e === 'object' && e !== null && 'exception' in e) return describeThrown((e as { exception: unknown }).exception);
  return String(e);
}

const VR_LETTERS = /^[A-Z]{2}$/;

/**
 * How to read a file that lacks the Part 10 prefix: look at the first element's tag. A raw dataset
 * starts with a group below 0x0100 (0008 in practice); explicit VR shows two capital letters next.
 */
function guessRawSyntax(b: Uint8Array): string | undefined {
  if (b.length < 8) return undefined;
  const groupLE = b[0]! | (b[1]! << 8);
  const groupBE = (b[0]! << 8) | b[1]!;
  const vr = String.fromCharCode(b[4]!, b[5]!);
  if (groupLE >= 2 && groupLE <= 0x0028 && groupLE % 2 === 0) {
    return VR_LETTERS.test(vr) ? TS.explicitLE : TS.implicitLE;
  }
  if (groupBE >= 2 && groupBE <= 0x0028 && groupBE % 2 === 0 && VR_LETTERS.test(vr)) return TS.explicitBE;
  return undefined;
}

export interface ParseOptions {
  /** Stop at PixelData (header-only indexing). */
  headerOnly?: boolean;
}

export interface Parsed {
  dataSet: DataSet;
  transferSyntax: string;
  /** False when the file lacked the Part 10 preamble and meta group. */
  part10: boolean;
}

/** Parses DICOM bytes; throws InputError naming `file` when they are not a readable, complete DICOM dataset. */
export function parseDicomBytes(bytes: Uint8Array, file: string, opts: ParseOptions = {}): Parsed {
  const parsed = parseLenient(bytes, file, opts);
  checkComplete(parsed.dataSet, file, opts.headerOnly ?? false);
  return parsed;
}

function parseLenient(bytes: Uint8Array, file: string, opts: ParseOptions): Parsed {
  const base = { inflater, ...(opts.headerOnly ? { untilTag: PIXEL_DATA } : {}) };
  const hasPrefix = bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
  try {
    if (hasPrefix) {
      const dataSet = dicomParser.parseDicom(bytes, base);
      return { dataSet, transferSyntax: transferSyntaxOf(dataSet), part10: true };
    }
    // 'DICM' at offset 0: the meta group is there but the preamble is missing.
    if (bytes.length >= 4 && bytes[0] === 0x44 && bytes[1] === 0x49 && bytes[2] === 0x43 && bytes[3] === 0x4d) {
      const padded = Buffer.alloc(bytes.length + 128);
      padded.set(bytes, 128);
      const dataSet = dicomParser.parseDicom(padded, base);
      return { dataSet, transferSyntax: transferSyntaxOf(dataSet), part10: true };
    }
    const ts = guessRawSyntax(bytes);
    if (!ts) throw new InputError(`not a DICOM file: ${file} (no DICM prefix and no DICOM dataset at the start)`, { file });
    const dataSet = dicomParser.parseDicom(bytes, { ...base, TransferSyntaxUID: ts });
    return { dataSet, transferSyntax: dataSet.elements.x00020010 ? transferSyntaxOf(dataSet) : ts, part10: false };
  } catch (e) {
    if (e instanceof InputError) throw e;
    return failure(e, file);
  }
}

function failure(e: unknown, file: string): never {
  const msg = describeThrown(e);
  const truncated = /buffer overread|attempt to read past end|end of buffer|past the end/i.test(msg);
  throw new InputError(truncated ? `truncated or corrupt DICOM file ${file}: ${msg}` : `unreadable DICOM file ${file}: ${msg}`, { file });
}

/**
 * dicom-parser tolerates some truncations silently: a sequence of undefined length cut short only
 * adds an 'eof encountered' warning, and the last element's value may run past the end (seen on a
 * truncated copy of the 4D-Lung RTSTRUCT). Both mean the file is incomplete.
 */
function checkComplete(ds: DataSet, file: string, headerOnly: boolean): void {
  const eof = ds.warnings.find((w) => /eof encountered/i.test(w));
  if (eof) throw new InputError(`truncated DICOM file ${file}: ${eof}`, { file });
  const end = ds.byteArray.length;
  for (const el of Object.values(ds.elements)) {
    if (headerOnly && el.tag === PIXEL_DATA) continue;
    if (el.hadUndefinedLength) continue;
    if (el.dataOffset + el.length > end) {
      throw new InputError(`truncated DICOM file ${file}: element (${el.tag.slice(1, 5)},${el.tag.slice(5)}) ends past the end of the file`, { file });
    }
  }
}

export function transferSyntaxOf(ds: DataSet): string {
  return (ds.string('x00020010') ?? TS.implicitLE).replace(/\0/g, '').trim() || TS.implicitLE;
}
