/**
 * OpenKBP head-and-neck cases (../shared/data/openkbp) as atlas templates and queries: CT, the 7
 * OAR label map, six extreme points and a mask per OAR. Shared by the integration test and the
 * atlas benchmark.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti, readNiftiLabels } from '../../../electron/engine/nifti/nifti.js';
import { extremePointsFromLabels } from '../../../electron/engine/localize/extreme-points.js';
import { maskBoxLps } from '../../../electron/engine/metrics/boxes.js';
import { countIntersection, countNonZero } from '../../../electron/engine/metrics/masks.js';
import { hd95, surfaceDistances } from '../../../electron/engine/metrics/surface-distance.js';
import type { Box, StructureTemplates } from '../../../electron/engine/localize/localizer.js';
import type { Volume, LabelVolume } from '../../../electron/engine/volume/volume.js';

export const OPENKBP_PATIENTS = ['4', '13', '17', '22', '31', '34'];

export interface Case {
  id: string;
  seriesUid: string;
  ct: Volume;
  labels: LabelVolume;
  names: Record<number, string>;
}

export function loadCase(dir: string, id: string): Case {
  const names = JSON.parse(readFileSync(join(dir, 'oar_names.json'), 'utf8')) as Record<string, string>;
  return {
    id,
    seriesUid: `openkbp-pt_${id}`,
    ct: readNifti(join(dir, `pt_${id}_ct.nii.gz`)),
    labels: readNiftiLabels(join(dir, `pt_${id}_oar_labels.nii.gz`)),
    names: Object.fromEntries(Object.entries(names).map(([k, v]) => [Number(k), v])),
  };
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
