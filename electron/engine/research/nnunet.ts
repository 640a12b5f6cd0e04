/**
 * `export dataset --format nnunet`: the archive's results of one template set as an nnU-Net v2 raw
 * dataset (Isensee et al., Nature Methods 2021; nnU-Net v2 "dataset_format.md"):
 *
 *   DIR/dataset.json                 channel_names {"0": "CT"}, labels {background: 0, <name>: v},
 *                                    numTraining, file_ending ".nii.gz"
 *   DIR/imagesTr/<case>_0000.nii.gz  the CT in HU (channel 0000)
 *   DIR/labelsTr/<case>.nii.gz       the label map, same grid and affine as the image
 *
 * Label values follow the set's structures in alphabetical order (1..n), as `export labels` writes
 * them; where masks overlap, the later structure wins (nnU-Net labels are exclusive). A case enters
 * the dataset only when EVERY structure of the set has a mask in the required review state: a
 * structure left out of a case would be trained as background, teaching the network to miss it.
 * Case ids are `case_0001`, ... in series-UID order, never derived from patient identifiers; the link
 * case -> series stays in the archive's exports log, not in the dataset.
 *
 * A per-dataset transform (resampling, ...) can be plugged in: `transform` sees each case's image and
 * label map before they are written.
 *
 * `deidentify`: NIfTI carries no DICOM attributes, and the files here get none of the series' (the
 * header's description is the fixed 'Delineate', case ids and names are counters), so what is left
 * to the profile (DICOM PS3.15 Annex E) is the pixels: a series whose images declare burned-in
 * annotation (0028,0301 YES) is refused unless a person overrides, since the Basic Profile does not
 * clean pixels; dataset.json records that the dataset was de-identified.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/db.js';
import { InputError, NotFoundError, UnsupportedError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { getInstances, getSeriesGeometry } from '../store/archive.js';
import { readPart10 } from '../rtstruct/dcmjs.js';
import { writeNifti } from '../nifti/nifti.js';
import { loadFloatVolume } from '../volume/load.js';
import type { Volume } from '../volume/volume.js';
import { getResultMask, getResults, type ReviewState } from '../store/results.js';
import { recordExport } from '../rtstruct/exports-log.js';

export interface DatasetCase {
  caseId: string;
  seriesUid: string;
  image: Volume;
  labels: Volume<Uint8Array | Uint16Array>;
}

/** A per-dataset step applied to every case before it is written (e.g. de-identification). */
export interface DatasetTransform {
  name: string;
  apply(c: DatasetCase): DatasetCase | Promise<DatasetCase>;
}

export interface NnunetExportRequest {
  templateSet: string;
  out: string;
  /** Review states a structure may be in to be exported (default: approved only). */
  states?: ReviewState[];
  /** The dataset's name in dataset.json (default: the folder's name). */
  name?: string;
  transform?: DatasetTransform;
  /** De-identified dataset (see above); `allowBurnedInAnnotation`: a person checked the images. */
  deidentify?: { allowBurnedInAnnotation?: boolean };
  signal?: AbortSignal;
}

/** Refuses a series whose DICOM images declare burned-in annotation, naming the file. */
function refuseBurnedIn(db: Db, seriesUid: string): void {
  if (getSeriesGeometry(db, seriesUid).source !== 'dicom') return;
  for (const inst of getInstances(db, seriesUid)) {
    const burned = String(readPart10(inst.path, { untilPixelData: true }).dataset.BurnedInAnnotation ?? '').trim().toUpperCase();
    if (burned === 'YES') {
      throw new UnsupportedError(
        `${inst.path} (series ${seriesUid}) declares BurnedInAnnotation (0028,0301) YES: its pixels may show identifiers, which de-identification does not remove; refused (a person who checked the images may override)`,
        { seriesUid, file: inst.path },
      );
    }
  }
}

export interface NnunetExportResult {
  out: string;
  labels: Record<string, number>;
  cases: { caseId: string; seriesUid: string }[];
  skipped: { seriesUid: string; reason: string }[];
}

/** Label map on the series grid from per-structure masks, in the order given (later wins). */
export function labelMap(n: number, masks: { value: number; mask: Uint8Array }[]): Uint8Array | Uint16Array {
  const out = masks.length <= 255 ? new Uint8Array(n) : new Uint16Array(n);
  for (const { value, mask } of masks) for (let p = 0; p < n; p++) if (mask[p]) out[p] = value;
  return out;
}

export async function exportNnunet(db: Db, req: NnunetExportRequest): Promise<NnunetExportResult> {
  const states = req.states ?? ['approved'];
  const set = db.prepare('SELECT id FROM template_sets WHERE name = ?').get(req.templateSet) as { id: number } | undefined;
  if (!set) throw new NotFoundError(`template set '${req.templateSet}' does not exist`, { templateSet: req.templateSet });
  const structures = (db.prepare('SELECT DISTINCT structure FROM template_members WHERE set_id = ? ORDER BY structure').all(set.id) as { structure: string }[]).map((r) => r.structure);
  if (structures.length === 0) throw new InputError(`template set '${req.templateSet}' has no structures`, { templateSet: req.templateSet });
  if (existsSync(req.out) && readdirSync(req.out).length > 0) throw new InputError(`dataset folder ${req.out} exists and is not empty`, { file: req.out });
  const series = (db.prepare('SELECT DISTINCT series_uid FROM results WHERE set_id = ? ORDER BY series_uid').all(set.id) as { series_uid: string }[]).map((r) => r.series_uid);

  const labels: Record<string, number> = { background: 0 };
  structures.forEach((s, i) => (labels[s] = i + 1));
  const skipped: NnunetExportResult['skipped'] = [];
  const chosen: string[] = [];
  for (const uid of series) {
    const byName = new Map(getResults(db, uid, req.templateSet).map((r) => [r.structure, r]));
    const missing = structures.filter((s) => !byName.get(s)?.hasMask || !states.includes(byName.get(s)!.reviewState));
    if (missing.length > 0) skipped.push({ seriesUid: uid, reason: `no ${states.join('/')} mask for ${missing.join(', ')}` });
    else chosen.push(uid);
  }
  if (chosen.length === 0) {
    throw new NotFoundError(`template set '${req.templateSet}' has no series with a ${states.join('/')} mask for every structure (${structures.join(', ')})`, { templateSet: req.templateSet });
  }

  if (req.deidentify && !req.deidentify.allowBurnedInAnnotation) for (const uid of chosen) refuseBurnedIn(db, uid);
  mkdirSync(join(req.out, 'imagesTr'), { recursive: true });
  mkdirSync(join(req.out, 'labelsTr'), { recursive: true });
  const cases: NnunetExportResult['cases'] = [];
  for (const [i, uid] of chosen.entries()) {
    const caseId = `case_${String(i + 1).padStart(4, '0')}`;
    const image = await loadFloatVolume(db, uid, req.signal ? { signal: req.signal } : {});
    const n = image.dims[0] * image.dims[1] * image.dims[2];
    const results = getResults(db, uid, req.templateSet);
    const masks = structures.map((s) => {
      const r = results.find((x) => x.structure === s)!;
      const mask = getResultMask(db, r.id);
      if (!mask || mask.length !== n) throw new InputError(`stored mask of ${s} on series ${uid} does not match the series grid`, { seriesUid: uid, structure: s });
      return { value: labels[s]!, mask };
    });
    let c: DatasetCase = { caseId, seriesUid: uid, image, labels: { ...image, data: labelMap(n, masks) } };
    if (req.transform) c = await req.transform.apply(c);
    const nifti = { description: 'Delineate', operation: 'export dataset' };
    writeNifti(join(req.out, 'imagesTr', `${caseId}_0000.nii.gz`), c.image, nifti);
    writeNifti(join(req.out, 'labelsTr', `${caseId}.nii.gz`), c.labels, nifti);
    recordExport(db, { seriesUid: uid, kind: 'dataset', path: join(req.out, 'labelsTr', `${caseId}.nii.gz`), detail: `nnunet ${caseId}${req.deidentify ? ', de-identified' : ''}` });
    cases.push({ caseId, seriesUid: uid });
  }
  const name = req.name ?? req.out.split(/[\\/]/).filter(Boolean).pop() ?? 'Delineate';
  const dataset = {
    name,
    description: `Delineate results of template set ${req.templateSet} (${states.join('/')} structures)${req.transform ? `, transformed by ${req.transform.name}` : ''}`,
    channel_names: { '0': 'CT' },
    labels,
    numTraining: cases.length,
    file_ending: '.nii.gz',
    ...(req.deidentify ? { deidentification: 'no DICOM attributes carried; case ids are counters; DICOM PS3.15 Annex E Basic Profile pixel rule: no burned-in annotation declared' } : {}),
  };
  writeFileAtomic(join(req.out, 'dataset.json'), `${JSON.stringify(dataset, null, 2)}\n`, { operation: 'export dataset' });
  return { out: req.out, labels, cases, skipped };
}
