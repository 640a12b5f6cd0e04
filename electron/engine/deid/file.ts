/**
 * De-identifying a DICOM file that an exporter has just written: read, deidentifyDataset, write to
 * the final name (temporary name + rename), remove the identified source. One call for exporters
 * that build their object through a file (export rtstruct, export seg, ...).
 */
import { rmSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic.js';
import { DelineateError } from '../errors.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, readPart10, toPart10 } from '../rtstruct/dcmjs.js';
import { pixelEncoding } from '../dicom/transfer-syntax.js';
import { deidentifyDataset, type DeidOptions, type PseudonymMap } from './deidentify.js';

/** Returns the de-identified SOP Instance and Series Instance UIDs written to `dst`. */
export function deidentifyFile(src: string, dst: string, map: PseudonymMap, opts: DeidOptions = {}): { sopInstanceUid: string; seriesInstanceUid: string } {
  try {
    const { meta, dataset } = readPart10(src);
    const clean = deidentifyDataset(dataset, map, { label: dst, ...opts });
    const ts = String(meta.TransferSyntaxUID ?? EXPLICIT_VR_LITTLE_ENDIAN);
    const enc = pixelEncoding(ts);
    writeFileAtomic(dst, toPart10(clean, enc === 'native' || enc === undefined ? EXPLICIT_VR_LITTLE_ENDIAN : ts), { operation: 'de-identify' });
    return { sopInstanceUid: String(clean.SOPInstanceUID ?? ''), seriesInstanceUid: String(clean.SeriesInstanceUID ?? '') };
  } catch (e) {
    if (e instanceof DelineateError) throw e;
    throw new DelineateError('bad-input', `cannot write de-identified ${dst}: ${(e as Error).message}`, { file: dst }, { cause: e });
  } finally {
    if (src !== dst) rmSync(src, { force: true });
  }
}
