/**
 * De-identifying a DICOM file that an exporter has just written: read, deidentifyDataset, write to
 * the final name (temporary name + rename), remove the identified source. One call for exporters
 * that build their object through a file (export rtstruct, export seg, ...).
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
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
    const tmp = `${dst}.partial-${process.pid}`;
    writeFileSync(tmp, toPart10(clean, enc === 'native' || enc === undefined ? EXPLICIT_VR_LITTLE_ENDIAN : ts));
    renameSync(tmp, dst);
    return { sopInstanceUid: String(clean.SOPInstanceUID ?? ''), seriesInstanceUid: String(clean.SeriesInstanceUID ?? '') };
  } catch (e) {
    rmSync(`${dst}.partial-${process.pid}`, { force: true });
    if (e instanceof DelineateError) throw e;
    throw new DelineateError('bad-input', `cannot write de-identified ${dst}: ${(e as Error).message}`, { file: dst }, { cause: e });
  } finally {
    if (src !== dst) rmSync(src, { force: true });
  }
}
