/**
 * Atlas selection: after the cheap global affine stage, how well does a template's neighbourhood of
 * one structure match the query? Multi-atlas segmentation improves with more atlases only when the
 * dissimilar ones are left out (Aljabar et al., NeuroImage 2009: selection by image similarity
 * after affine alignment; Iglesias & Sabuncu, Med Image Anal 2015, section 4.1), and registering
 * deformably only the best k keeps the cost of a query flat as the library grows.
 *
 * The score is the NCC of the query and the globally aligned template over every working-grid voxel
 * of the query inside the structure's region (its template extreme points carried through the
 * inverse global transform, plus a margin): no optimisation, a few milliseconds per structure.
 */
import type { Vec3 } from '../volume/geometry.js';
import { patientToVoxelMatrix, sampleVoxel, voxelToPatientMatrix, applyAffine, voxelBox, type Image } from './image.js';
import { applyMat34, composeMat34, invertMat34, type Mat34 } from './transform.js';

export interface Region {
  min: Vec3;
  max: Vec3;
}

/** The LPS box of template points carried to the query by the inverse of `global`, grown by `marginMm`. */
export function regionOfPoints(points: Vec3[], global: Mat34, marginMm: number): Region {
  const inv = invertMat34(global);
  const mapped = points.map((p) => applyMat34(inv, p));
  return {
    min: [0, 1, 2].map((a) => Math.min(...mapped.map((p) => p[a]!)) - marginMm) as Vec3,
    max: [0, 1, 2].map((a) => Math.max(...mapped.map((p) => p[a]!)) + marginMm) as Vec3,
  };
}

/**
 * NCC (-1..1) of `fixed` (query) and `moving` (template) pulled through `matrix` (query LPS ->
 * template LPS) over the fixed voxels inside `region`. Moving samples outside its grid read 0 (the
 * clip floor), so a template whose field of view misses the region scores low, as it should.
 * Fewer than 64 voxels in the region: 0 (nothing to compare).
 */
export function nccInRegion(fixed: Image, moving: Image, matrix: Mat34, region: Region): number {
  const v2p = voxelToPatientMatrix(fixed);
  const { lo, hi } = voxelBox(patientToVoxelMatrix(fixed), region);
  const [nx, ny, nz] = fixed.dims;
  const i0 = Math.max(0, Math.ceil(lo[0]!));
  const j0 = Math.max(0, Math.ceil(lo[1]!));
  const k0 = Math.max(0, Math.ceil(lo[2]!));
  const i1 = Math.min(nx - 1, Math.floor(hi[0]!));
  const j1 = Math.min(ny - 1, Math.floor(hi[1]!));
  const k1 = Math.min(nz - 1, Math.floor(hi[2]!));
  // Query voxel -> template voxel in one matrix.
  const toMoving = composeMat34(patientToVoxelMatrix(moving), composeMat34(matrix, v2p));
  let n = 0;
  let sf = 0;
  let sm = 0;
  let sff = 0;
  let smm = 0;
  let sfm = 0;
  for (let k = k0; k <= k1; k++) {
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        const f = fixed.data[i + nx * (j + ny * k)]!;
        const v = applyAffine(toMoving, [i, j, k]);
        const m = sampleVoxel(moving, v[0], v[1], v[2], 0);
        n++;
        sf += f;
        sm += m;
        sff += f * f;
        smm += m * m;
        sfm += f * m;
      }
    }
  }
  if (n < 64) return 0;
  const cov = sfm - (sf * sm) / n;
  const vf = sff - (sf * sf) / n;
  const vm = smm - (sm * sm) / n;
  const d = Math.sqrt(vf * vm);
  return d > 1e-12 ? cov / d : 0;
}

/**
 * The members to register deformably: per structure the `k` best-ranked template series (k <= 0 or
 * k >= the members: all). Ties keep the given order, so a ranking is deterministic.
 */
export function topK<T extends { seriesUid: string }>(members: T[], score: (m: T) => number, k: number): T[] {
  if (k <= 0 || k >= members.length) return members;
  return members
    .map((m, n) => ({ m, n, s: score(m) }))
    .sort((a, b) => b.s - a.s || a.n - b.n)
    .slice(0, k)
    .map((x) => x.m);
}

/**
 * The `max` template series with the best mean selection score over the structures they annotate
 * (max <= 0: no cap, undefined). Per-structure top-k alone can pick a different k for every
 * structure, so a query would register nearly every template of a small library; capping the union
 * bounds the full registrations per query whatever the library size. Ties keep the given order.
 */
export function capTemplates(scores: Map<string, number[]>, max: number): Set<string> | undefined {
  if (max <= 0 || max >= scores.size) return undefined;
  const mean = (v: number[]): number => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : -Infinity);
  return new Set(
    [...scores]
      .map(([series, v], n) => ({ series, n, s: mean(v) }))
      .sort((a, b) => b.s - a.s || a.n - b.n)
      .slice(0, max)
      .map((x) => x.series),
  );
}
