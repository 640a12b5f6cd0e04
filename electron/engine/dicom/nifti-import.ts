/**
 * NIfTI files as archive series. A NIfTI has no UIDs: the series, study, frame of reference and the
 * single "instance" get stable UIDs derived from the file's content hash, so re-importing the same
 * file (even from another path) finds the same series. A file whose name says it is a label map
 * (seg, label, mask) is indexed as an object (modality LABELMAP) referencing the volume in the same
 * folder with the same grid; its voxels are read when used.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ImportWarning } from '../../api.js';
import { InputError } from '../errors.js';
import { readNifti, readNiftiLabels } from '../nifti/nifti.js';
import { listSeries, upsertInstance, upsertObject, upsertPatientStudy, upsertSeries } from '../store/archive.js';
import type { Db } from '../store/db.js';
import { voxelToPatient, type Geometry } from '../volume/geometry.js';
import { derivedUid } from './header.js';

export function isLabelMapName(path: string): boolean {
  return /(seg|label|mask)/i.test(basename(path).replace(/\.nii(\.gz)?$/i, ''));
}

function stem(path: string): string {
  return basename(path).replace(/\.nii(\.gz)?$/i, '');
}

export interface NiftiImported {
  kind: 'series' | 'object';
  uid: string;
  warnings: ImportWarning[];
}

/** The eight corner voxel centres, sorted: equal for two grids that differ only by axis flips. */
function corners(g: Geometry): string[] {
  const out: string[] = [];
  for (const i of [0, g.dims[0] - 1])
    for (const j of [0, g.dims[1] - 1])
      for (const k of [0, g.dims[2] - 1]) out.push(voxelToPatient(g, [i, j, k]).map((x) => x.toFixed(1)).join(','));
  return out.sort();
}

/** Same voxel centres (within rounding), allowing axis flips such as dcm2niix-style row flips. */
function sameGrid(a: Geometry, b: Geometry): boolean {
  if (a.dims.join() !== b.dims.join()) return false;
  if (a.spacing.some((s, i) => Math.abs(s - b.spacing[i]!) > 1e-3)) return false;
  const ca = corners(a);
  const cb = corners(b);
  return ca.every((c, i) => c === cb[i]);
}

/** Imports one NIfTI volume as a series, or a label map as an object. Throws InputError for bad files. */
export function importNifti(db: Db, path: string, size: number, mtimeMs: number, volumesByFolder: Map<string, { uid: string; path: string; geometry: Geometry }[]>): NiftiImported {
  const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
  const warnings: ImportWarning[] = [];
  if (isLabelMapName(path)) {
    const lab = readNiftiLabels(path);
    const candidates = (volumesByFolder.get(dirname(path)) ?? []).filter((v) => sameGrid(v.geometry, lab));
    // Prefer the volume whose name shares the longest prefix with the label map's.
    const prefixLen = (a: string, b: string): number => {
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return i;
    };
    candidates.sort((a, b) => prefixLen(stem(b.path), stem(path)) - prefixLen(stem(a.path), stem(path)));
    // Else an archived series on exactly this grid (a label map made on a DICOM series).
    const ref = candidates[0]?.uid ?? listSeries(db).find((s) => sameGrid(s, lab))?.seriesUid ?? null;
    if (!ref) warnings.push({ path, message: `label map ${path}: no volume with the same grid in its folder was imported with it; indexed without a series` });
    const uid = derivedUid('nifti-labels', hash);
    upsertObject(db, { sopInstanceUid: uid, modality: 'LABELMAP', sopClassUid: '', studyUid: '', seriesUid: '', referencedSeriesUid: ref, path, label: stem(path) });
    return { kind: 'object', uid, warnings };
  }
  const vol = readNifti(path);
  if (vol.dims.some((d) => d < 1)) throw new InputError(`NIfTI ${path} has an empty dimension`, { file: path });
  const seriesUid = derivedUid('nifti-series', hash);
  const studyUid = derivedUid('nifti-study', hash);
  const forUid = derivedUid('nifti-for', hash);
  const geometry = { dims: vol.dims, spacing: vol.spacing, origin: vol.origin, direction: vol.direction, uniform: true };
  const nameStem = stem(path);
  db.transaction(() => {
    upsertPatientStudy(db, {
      patientId: nameStem,
      patientName: '',
      birthDate: '',
      sex: '',
      studyUid,
      studyDate: '',
      studyTime: '',
      studyDescription: `NIfTI ${basename(path)}`,
      accession: '',
      studyId: '',
    });
    upsertSeries(db, {
      seriesUid,
      studyUid,
      modality: 'CT',
      frameOfReferenceUid: forUid,
      description: nameStem,
      seriesNumber: '',
      seriesDate: '',
      source: 'nifti',
      geometry,
      warnings: [],
    });
    upsertInstance(db, {
      sopInstanceUid: derivedUid('nifti-instance', hash),
      seriesUid,
      path,
      instanceNumber: 1,
      position: vol.origin,
      orientation: null,
      sliceIndex: 0,
      fileSize: size,
      fileMtimeMs: mtimeMs,
    });
  }).immediate();
  const list = volumesByFolder.get(dirname(path)) ?? [];
  list.push({ uid: seriesUid, path, geometry });
  volumesByFolder.set(dirname(path), list);
  return { kind: 'series', uid: seriesUid, warnings };
}
