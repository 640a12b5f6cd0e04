/**
 * OpenKBP head-and-neck cases (../shared/data/openkbp) as atlas templates and queries: CT, the 7
 * OAR label map, six extreme points and a mask per OAR. Shared by the integration test and the
 * atlas benchmark.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti, readNiftiLabels } from '../../../electron/engine/nifti/nifti.js';
import { extremePointsFromLabels } from '../../../electron/engine/localize/extreme-points.js';
import { maskBoxLps } from '../../../electron/engine/metrics/boxes.js';
import { countIntersection, countNonZero } from '../../../electron/engine/metrics/masks.js';
import { hd95, surfaceDistances } from '../../../electron/engine/metrics/surface-distance.js';
import type { Box, StructureTemplates } from '../../../electron/engine/localize/localizer.js';
import type { Volume, LabelVolume } from '../../../electron/engine/volume/volume.js';
import { sampleVoxel } from '../../../electron/engine/registration/image.js';

export const OPENKBP_PATIENTS = ['4', '13', '17', '22', '31', '34'];

export interface Case {
  id: string;
  /** The folder the case was read from. */
  dir: string;
  seriesUid: string;
  ct: Volume;
  labels: LabelVolume;
  names: Record<number, string>;
}

export function loadCase(dir: string, id: string): Case {
  const names = JSON.parse(readFileSync(join(dir, 'oar_names.json'), 'utf8')) as Record<string, string>;
  return {
    id,
    dir,
    seriesUid: `openkbp-pt_${id}`,
    ct: readNifti(join(dir, `pt_${id}_ct.nii.gz`)),
    labels: readNiftiLabels(join(dir, `pt_${id}_oar_labels.nii.gz`)),
    names: Object.fromEntries(Object.entries(names).map(([k, v]) => [Number(k), v])),
  };
}

/** A case resampled by resampleCase: per voxel, the stored voxel its reference label came from. */
export interface ResampledCase extends Case {
  stored: { case: Case; voxel: Int32Array };
}

/**
 * The case on a finer grid over the same field of view (CT trilinear, labels nearest), for a query
 * the size of a clinical CT (OpenKBP's are 128 x 128 x 128 at about 4 x 4 x 2.5 mm).
 */
export function resampleCase(c: Case, spacing: [number, number, number]): ResampledCase {
  const dims = c.ct.dims.map((d, a) => Math.max(1, Math.round((d * c.ct.spacing[a]!) / spacing[a]!))) as [number, number, number];
  const d = c.ct.direction;
  // The first voxel centre half a new voxel inside the old extent, along each axis's direction.
  const shift = [0, 1, 2].map((a) => (spacing[a]! - c.ct.spacing[a]!) / 2);
  const origin = [0, 1, 2].map((r) => c.ct.origin[r]! + d[r * 3]! * shift[0]! + d[r * 3 + 1]! * shift[1]! + d[r * 3 + 2]! * shift[2]!) as [number, number, number];
  const n = dims[0] * dims[1] * dims[2];
  const ct = new Float32Array(n);
  const labels = new Uint8Array(n);
  const voxel = new Int32Array(n);
  const src = { ...c.ct, data: Float32Array.from(c.ct.data) };
  const [nx, ny] = c.labels.dims;
  let q = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, q++) {
        // Continuous index in the old grid of this new voxel centre.
        const x = (shift[0]! + i * spacing[0]) / c.ct.spacing[0];
        const y = (shift[1]! + j * spacing[1]) / c.ct.spacing[1];
        const z = (shift[2]! + k * spacing[2]) / c.ct.spacing[2];
        const cx = Math.min(Math.max(x, 0), c.ct.dims[0] - 1);
        const cy = Math.min(Math.max(y, 0), c.ct.dims[1] - 1);
        const cz = Math.min(Math.max(z, 0), c.ct.dims[2] - 1);
        ct[q] = sampleVoxel(src, cx, cy, cz, 0);
        voxel[q] = Math.round(cx) + nx * (Math.round(cy) + ny * Math.round(cz));
        labels[q] = c.labels.data[voxel[q]!] as number;
      }
    }
  }
  const geometry = { dims, spacing: [...spacing] as [number, number, number], origin, direction: [...d] as typeof d };
  return { ...c, ct: { ...geometry, data: ct }, labels: { ...geometry, data: labels }, stored: { case: c, voxel } };
}

/**
 * A mask on a resampled case's grid carried back to the stored grid: a stored voxel is in when at
 * least half of the resampled voxels taken from it are. Scoring there compares the contour with the
 * reference as it was drawn, not with its nearest-neighbour blocks on the finer grid.
 */
export function toStoredGrid(mask: Uint8Array, r: ResampledCase): Uint8Array {
  const n = r.stored.case.labels.data.length;
  const inside = new Uint32Array(n);
  const total = new Uint32Array(n);
  for (let q = 0; q < mask.length; q++) {
    const v = r.stored.voxel[q]!;
    total[v]!++;
    if (mask[q]) inside[v]!++;
  }
  const out = new Uint8Array(n);
  for (let v = 0; v < n; v++) out[v] = total[v]! > 0 && 2 * inside[v]! >= total[v]! ? 1 : 0;
  return out;
}

export function binary(labels: LabelVolume, value: number): Uint8Array {
  const m = new Uint8Array(labels.data.length);
  for (let n = 0; n < m.length; n++) m[n] = labels.data[n] === value ? 1 : 0;
  return m;
}

/** Templates for every OAR present in every template case; `withMasks` adds loadMask. */
export function templatesFrom(cases: Case[], withMasks: boolean): StructureTemplates[] {
  const first = cases[0]!;
  return Object.entries(first.names).map(([value, name]) => ({
    name,
    members: cases.flatMap((c) => {
      const points = extremePointsFromLabels(c.labels, Number(value));
      if (!points) return [];
      const m = {
        seriesUid: c.seriesUid,
        points,
        loadVolume: () => Promise.resolve(c.ct),
      };
      return withMasks ? [{ ...m, loadMask: () => Promise.resolve(binary(c.labels, Number(value))) }] : [m];
    }),
  }));
}

export interface Scores {
  boxIou: number;
  wallMm: number;
  dice: number;
  hd95Mm: number;
}

export function diceOf(a: Uint8Array, b: Uint8Array): number {
  const s = countNonZero(a) + countNonZero(b);
  return s === 0 ? 1 : (2 * countIntersection(a, b)) / s;
}

export function hd95Of(a: Uint8Array, b: Uint8Array, vol: Volume): number {
  if (countNonZero(a) === 0 || countNonZero(b) === 0) return Number.NaN;
  return hd95(surfaceDistances(a, b, vol.dims, vol.spacing));
}

export function referenceBox(c: Case, value: number): Box | undefined {
  return maskBoxLps(binary(c.labels, value), c.labels);
}

/**
 * A template library read from disk on demand: the extreme points of every OAR are computed once,
 * the CT and label map are read again whenever the backend asks (so a benchmark's memory reflects
 * the backend's, not a library held in memory). `dirs` hold `pt_N_ct.nii.gz`,
 * `pt_N_oar_labels.nii.gz` and `oar_names.json`.
 */
export interface LibraryCase {
  id: string;
  dir: string;
  seriesUid: string;
  names: Record<number, string>;
  points: Map<number, ReturnType<typeof extremePointsFromLabels>>;
}

export function patientsIn(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => /^pt_(\d+)_ct\.nii\.gz$/.exec(f)?.[1])
    .filter((x): x is string => x !== undefined)
    .sort((a, b) => Number(a) - Number(b));
}

export function libraryCase(dir: string, id: string): LibraryCase {
  const names = JSON.parse(readFileSync(join(dir, 'oar_names.json'), 'utf8')) as Record<string, string>;
  const labels = readNiftiLabels(join(dir, `pt_${id}_oar_labels.nii.gz`));
  const points = new Map(Object.keys(names).map((v) => [Number(v), extremePointsFromLabels(labels, Number(v))]));
  return { id, dir, seriesUid: `openkbp-pt_${id}`, names: Object.fromEntries(Object.entries(names).map(([k, v]) => [Number(k), v])), points };
}

/** The last label map read: the backend asks for one template's structures in a row. */
let lastLabels: { key: string; labels: LabelVolume } | undefined;
function labelsOf(c: LibraryCase): LabelVolume {
  const key = join(c.dir, `pt_${c.id}_oar_labels.nii.gz`);
  if (lastLabels?.key !== key) lastLabels = { key, labels: readNiftiLabels(key) };
  return lastLabels.labels;
}

/** Templates for every OAR from streamed library cases (see LibraryCase). */
export function streamedTemplates(cases: LibraryCase[]): StructureTemplates[] {
  const first = cases[0]!;
  return Object.entries(first.names).map(([value, name]) => ({
    name,
    members: cases.flatMap((c) => {
      const points = c.points.get(Number(value));
      if (!points) return [];
      return [{
        seriesUid: c.seriesUid,
        points,
        loadVolume: () => Promise.resolve(readNifti(join(c.dir, `pt_${c.id}_ct.nii.gz`)) as Volume),
        loadMask: () => Promise.resolve(binary(labelsOf(c), Number(value))),
        // Points exist only where the label map has the structure, as an archive's index knows.
        hasMask: true,
      }];
    }),
  }));
}
