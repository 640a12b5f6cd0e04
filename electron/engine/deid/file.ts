/**
 * De-identifying one DICOM object on its way out: the Part 10 bytes an exporter built (or a file the
 * archive holds) are read, passed through deidentifyDataset with the project's pseudonyms and
 * re-encoded, so only the de-identified object is ever written under the export's name.
 */
import { rmSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic.js';
import { DelineateError } from '../errors.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, parsePart10, readPart10, toPart10, type Naturalized } from '../rtstruct/dcmjs.js';
import { pixelEncoding } from '../dicom/transfer-syntax.js';
import { deidentifyDataset, type DeidOptions, type PseudonymMap } from './deidentify.js';

export interface DeidentifiedObject {
  bytes: Buffer;
  /** The UIDs as written (pseudonyms). */
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

/** A de-identifier of Part 10 bytes, as exporters take it (they need not know the profile). */
export type Part10Transform = (bytes: Buffer, label: string) => DeidentifiedObject;

/** Encapsulated and big-endian pixel data keep their transfer syntax; the rest is written explicit VR LE. */
function outputSyntax(meta: Naturalized): string {
  const ts = String(meta.TransferSyntaxUID ?? EXPLICIT_VR_LITTLE_ENDIAN);
  const enc = pixelEncoding(ts);
  return enc === 'native' || enc === undefined ? EXPLICIT_VR_LITTLE_ENDIAN : ts;
}

function encode(meta: Naturalized, dataset: Naturalized, map: PseudonymMap, opts: DeidOptions): DeidentifiedObject {
  const clean = deidentifyDataset(dataset, map, opts);
  return { bytes: toPart10(clean, outputSyntax(meta)), sopInstanceUid: String(clean.SOPInstanceUID ?? ''), seriesInstanceUid: String(clean.SeriesInstanceUID ?? '') };
}

/** The de-identified copy of Part 10 bytes held in memory; `label` names the object in errors. */
export function deidentifyBytes(bytes: Buffer, label: string, map: PseudonymMap, opts: DeidOptions = {}): DeidentifiedObject {
  const { meta, dataset } = parsePart10(bytes, label);
  return encode(meta, dataset, map, { label, ...opts });
}

/** A Part10Transform with the project's pseudonyms and options bound. */
export function deidentifier(map: PseudonymMap, opts: DeidOptions = {}): Part10Transform {
  return (bytes, label) => deidentifyBytes(bytes, label, map, opts);
}

/** De-identifies a file into `dst` (temporary name, fsync, rename); with `removeSource` the identified file is deleted. */
export function deidentifyFile(src: string, dst: string, map: PseudonymMap, opts: DeidOptions & { operation?: string; removeSource?: boolean } = {}): DeidentifiedObject {
  const { operation = 'de-identify', removeSource = false, ...deid } = opts;
  try {
    const { meta, dataset } = readPart10(src);
    const out = encode(meta, dataset, map, { label: src, ...deid });
    writeFileAtomic(dst, out.bytes, { operation });
    return out;
  } catch (e) {
    if (e instanceof DelineateError) throw e;
    throw new DelineateError('bad-input', `cannot write de-identified ${dst} from ${src}: ${(e as Error).message}`, { file: dst }, { cause: e });
  } finally {
    if (removeSource && src !== dst) rmSync(src, { force: true });
  }
}
