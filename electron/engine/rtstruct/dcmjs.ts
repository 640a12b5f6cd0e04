/**
 * The small part of dcmjs (0.52, no type definitions) that RTSTRUCT reading and writing use, typed
 * here once. Datasets are "naturalized": keyword-named properties, sequences as arrays of objects,
 * PN as [{Alphabetic}] (dcmjs's model, PS3.18 F.2.2 JSON-like).
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

export type Naturalized = Record<string, unknown>;

interface DicomDictLike {
  meta: Record<string, unknown>;
  dict: Record<string, unknown>;
  write(options?: Record<string, unknown>): ArrayBuffer;
}

interface DcmjsLike {
  data: {
    DicomDict: new (meta: Record<string, unknown>) => DicomDictLike;
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DicomDictLike };
    DicomMetaDictionary: {
      naturalizeDataset(d: Record<string, unknown>): Naturalized;
      denaturalizeDataset(d: Naturalized): Record<string, unknown>;
    };
  };
  log?: { setLevel?(level: string): void };
}

const dcmjs = createRequire(import.meta.url)('dcmjs') as DcmjsLike;
// dcmjs logs warnings for every unknown private tag to the console; the CLI keeps stdout clean.
dcmjs.log?.setLevel?.('error');

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** Implementation Class UID for files this product writes (PS3.7 D.3.3.2): a 2.25 UUID-derived root. */
export const IMPLEMENTATION_CLASS_UID = '2.25.177452061412914307298958779296924394163';
export const IMPLEMENTATION_VERSION = 'DELINEATE_0_1';

/**
 * Serialises a naturalized dataset as a Part 10 file, in Explicit VR Little Endian unless another
 * transfer syntax is named (an encapsulated one keeps the dataset's pixel data fragments as they are).
 */
export function toPart10(dataset: Naturalized, transferSyntaxUid: string = EXPLICIT_VR_LITTLE_ENDIAN): Buffer {
  const meta: Naturalized = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: transferSyntaxUid,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION,
  };
  const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(dict.write());
}

/** Reads a Part 10 file into a naturalized dataset (pixel data, if any, is left undecoded). */
export function readPart10(file: string, opts: { untilPixelData?: boolean } = {}): { meta: Naturalized; dataset: Naturalized } {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (cause) {
    throw new InputError(`cannot read ${file}: ${(cause as Error).message}`, { file }, { cause });
  }
  return parsePart10(buf, file, opts);
}

/** readPart10 over bytes already in memory; `file` names them in errors. */
export function parsePart10(bytes: Buffer, file: string, opts: { untilPixelData?: boolean } = {}): { meta: Naturalized; dataset: Naturalized } {
  const buf = withPart10Header(bytes);
  try {
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const dict = dcmjs.data.DicomMessage.readFile(ab as ArrayBuffer, {
      untilTag: opts.untilPixelData ? '7FE00010' : undefined,
      ignoreErrors: true,
    });
    return {
      meta: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.meta),
      dataset: dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict),
    };
  } catch (cause) {
    throw new InputError(`${file} is not a readable DICOM file: ${(cause as Error).message}`, { file }, { cause });
  }
}

/**
 * dcmjs reads only Part 10 files (preamble, 'DICM', meta group). Older exports and some test files
 * are a bare dataset (PS3.10 7.1 makes the header mandatory, but they exist, e.g. pydicom's
 * rtstruct.dcm) or a meta group without preamble: give them the header dcmjs expects. A bare
 * dataset's transfer syntax is guessed from its first element: a VR after the tag means explicit VR.
 */
export function withPart10Header(buf: Buffer): Buffer {
  if (buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM') return buf;
  if (buf.length < 8) return buf;
  const preamble = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1')]);
  if (buf.readUInt16LE(0) === 0x0002) return Buffer.concat([preamble, buf]);
  const vr = buf.toString('latin1', 4, 6);
  const explicit = /^[A-Z]{2}$/.test(vr);
  const meta: Naturalized = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: '',
    MediaStorageSOPInstanceUID: '',
    TransferSyntaxUID: explicit ? EXPLICIT_VR_LITTLE_ENDIAN : '1.2.840.10008.1.2',
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
  };
  const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = {};
  return Buffer.concat([Buffer.from(dict.write()), buf]);
}

/** First value of a naturalized attribute as a string ('' when absent). */
export function strOf(d: Naturalized, key: string): string {
  const v = d[key];
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined || first === null) return '';
  if (typeof first === 'object' && 'Alphabetic' in (first as object)) return String((first as { Alphabetic?: unknown }).Alphabetic ?? '');
  return String(first);
}

/** A naturalized sequence as an array of items ([] when absent). */
export function seqOf(d: Naturalized, key: string): Naturalized[] {
  const v = d[key];
  if (Array.isArray(v)) return v.filter((x): x is Naturalized => typeof x === 'object' && x !== null);
  if (v && typeof v === 'object') return [v as Naturalized];
  return [];
}

/** A numeric multi-value attribute (DS, IS, US) as numbers. */
export function numsOf(d: Naturalized, key: string): number[] {
  const v = d[key];
  const arr = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return arr.map((x) => Number(x));
}
