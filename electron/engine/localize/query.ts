/**
 * The query stages (DESIGN.md steps 6-8; reference MedLAM/Predic_corner_cor.py `predic_corner_cor`,
 * detection_functions.py `cal_query`, `cal_RD`, `cal_RD_with_feature`; parity README Q10-Q18).
 */
import { throwIfAborted } from '../errors.js';
import { prng } from '../prng.js';
import type { Vec3 } from '../volume/geometry.js';
import { voxelToPatient } from '../volume/geometry.js';
import { canonicalToSource } from '../volume/reorient.js';
import { roundHalfEven, trilinearTorch, type Shape3 } from '../volume/resample.js';
import type { MedlamConstants } from './constants.js';
import { cropPatch, normaliseChannels, type MedlamNet } from './medlam-net.js';
import type { Grid3mm, Preprocessed } from './preprocess.js';
import type { SupportFeatures } from './support.js';

/**
 * Crop centres as the reference draws them (Q10): per axis of the PADDED shape an integer in
 * [s//2 - range, s//2 + range), all three redrawn while the voxel is < 0.001 (air or padding). The
 * stream differs from numpy's MT19937, so the draws are the same in law, not in value; callers that
 * need the reference's exact centres pass them in.
 */
export function drawCropCentres(pre: Pick<Preprocessed, 'data' | 'shape'>, c: MedlamConstants, seed = 2023): Vec3[] {
  const next = prng(seed);
  const [n0, n1, n2] = pre.shape;
  const out: Vec3[] = [];
  const R = c.queryCropRange;
  let tries = 0;
  while (out.length < c.queryCrops) {
    const p = [n0, n1, n2].map((s) => Math.floor(s / 2) - R + Math.floor(next() * 2 * R)) as Vec3;
    const v = pre.data[(p[0] * n1 + p[1]) * n2 + p[2]]!;
    // After many rejections (a scan with air at its centre) accept anyway rather than loop forever.
    if (v < 0.001 && ++tries < 1000) continue;
    out.push(p);
  }
  return out;
}

export interface QueryCoarseInput {
  /** Mean fc_position over the crops, float32 (Q11). */
  fcMean: Float32Array;
  /** Mean crop position in mm: mean over crops of int16(3 * centre) (Q11). */
  startMm: Vec3;
  fcPerCrop: Float32Array;
}

export async function queryFc(net: MedlamNet, pre: Pick<Preprocessed, 'data' | 'shape'>, centres: Vec3[], c: MedlamConstants, signal?: AbortSignal): Promise<QueryCoarseInput> {
  const fcPerCrop = new Float32Array(centres.length * 3);
  const sum = new Float32Array(3);
  const start: Vec3 = [0, 0, 0];
  for (let i = 0; i < centres.length; i++) {
    throwIfAborted(signal);
    const ctr = centres[i]!;
    const fc = await net.fcPosition(cropPatch(pre.data, pre.shape, ctr, c.patchSize), c.patchSize);
    for (let a = 0; a < 3; a++) {
      fcPerCrop[i * 3 + a] = fc[a]!;
      sum[a] = Math.fround(sum[a]! + fc[a]!);
      // np.int16(3 * c): c is an integer voxel index; the target spacing scales it to mm.
      start[a] = start[a]! + Math.trunc(c.targetSpacingMm[a]! * ctr[a]!);
    }
  }
  const n = centres.length;
  return { fcMean: sum.map((v) => Math.fround(v / n)), startMm: start.map((v) => v / n) as Vec3, fcPerCrop };
}

export interface CoarseResult {
  relativeMm: Vec3[];
  coarseMm: Vec3[];
  /** round(coarse / spacing), before clamping, padded grid. */
  coarseVox: Vec3[];
}

/** Relative-distance regression (Q12): ratio * tanh(fc_support - fc_query) + start, rounded half-even. */
export function coarse(support: SupportFeatures, q: QueryCoarseInput, c: MedlamConstants): CoarseResult {
  const relativeMm: Vec3[] = [];
  const coarseMm: Vec3[] = [];
  const coarseVox: Vec3[] = [];
  for (let r = 0; r < support.rows; r++) {
    const rel = [0, 1, 2].map((a) => c.distanceRatioZyx[a]! * Math.fround(Math.tanh(Math.fround(support.fc[r * 3 + a]! - q.fcMean[a]!)))) as Vec3;
    const mm = [0, 1, 2].map((a) => rel[a]! + q.startMm[a]!) as Vec3;
    relativeMm.push(rel);
    coarseMm.push(mm);
    coarseVox.push(mm.map((v, a) => roundHalfEven(v / c.targetSpacingMm[a]!)) as Vec3);
  }
  return { relativeMm, coarseMm, coarseVox };
}

export interface MssResult {
  /** Clamped patch centres, padded grid (Q13). */
  centre: Vec3[];
  /** argmax - (patch/2 - 1) per row (Q15). */
  offset: Vec3[];
  maxSim: number[];
  /** max minus the second-largest value of the summed map. */
  margin: number[];
  /** centre + offset - pad: the refined point in the unpadded 3 mm grid. */
  refinedUnpadded: Vec3[];
}

/** One query patch's channel-normalised feature maps, shared by every row cropped at its centre. */
interface PatchMaps {
  maps: Float32Array[];
  sizes: number[];
  channels: number;
}

async function patchMaps(net: MedlamNet, pre: Pick<Preprocessed, 'data' | 'shape'>, ctr: Vec3, P: Shape3): Promise<PatchMaps> {
  const f = await net.features(cropPatch(pre.data, pre.shape, ctr, P), P);
  // normaliseChannels works in place: each map is normalised once, then read by every row.
  const maps = f.maps.map((m, s) => normaliseChannels(m, f.channels, f.sizes[s]! ** 3));
  return { maps, sizes: f.sizes, channels: f.channels };
}

interface RowSimilarity {
  offset: Vec3;
  best: number;
  second: number;
}

/** The summed multi-scale similarity of one support row on one query patch, and its argmax. */
async function rowSimilarity(net: MedlamNet, q: PatchMaps, support: SupportFeatures, r: number, P: Shape3, sim: Float32Array, scaled: Float32Array): Promise<RowSimilarity> {
  const nOut = P[0] * P[1] * P[2];
  const half = P.map((p) => p / 2);
  sim.fill(1);
  for (let s = 0; s < q.maps.length; s++) {
    const S = q.sizes[s]!;
    const k = support.kernelSizes[s]!;
    const per = q.channels * k * k * k;
    const kern = support.kernels[s]!.subarray(r * per, (r + 1) * per);
    const corr = await net.correlate(q.maps[s]!, q.channels, S, kern, k);
    const k3 = k * k * k;
    for (let i = 0; i < corr.length; i++) corr[i] = Math.fround(corr[i]! / k3);
    const So = S + 1 - (k % 2);
    trilinearTorch(corr, [So, So, So], P, undefined, scaled);
    for (let i = 0; i < nOut; i++) sim[i] = Math.fround(sim[i]! + scaled[i]!);
  }
  let best = -Infinity;
  let second = -Infinity;
  let arg = 0;
  for (let i = 0; i < nOut; i++) {
    const v = sim[i]!;
    if (v > best) {
      second = best;
      best = v;
      arg = i;
    } else if (v > second) second = v;
  }
  const am: Vec3 = [Math.floor(arg / (P[1] * P[2])), Math.floor(arg / P[2]) % P[1], arg % P[2]];
  return { offset: am.map((v, a) => v - (half[a]! - 1)) as Vec3, best, second };
}

/**
 * Multi-scale similarity (Q13-Q15). The map starts at 1 and adds, per scale, the correlation of the
 * channel-normalised query features with the support kernel divided by k^3, resized trilinearly
 * (align_corners=False) to the patch size; float32 throughout. The Conv3d's random default bias of
 * the reference is constant per row and omitted (it cannot move the argmax).
 */
export async function refine(net: MedlamNet, pre: Pick<Preprocessed, 'data' | 'shape' | 'pad'>, support: SupportFeatures, coarseVox: Vec3[], c: MedlamConstants, signal?: AbortSignal, onPatch?: () => void): Promise<MssResult> {
  const [res] = await refineAll(net, pre, [support], [coarseVox], c, signal, onPatch ? () => onPatch() : undefined);
  return res!;
}

/**
 * refine() for every structure of a query at once. Rows (of any structure) whose clamped crop
 * centre is the same share one network forward and one normalisation: the reference runs the
 * network once per row, but a patch's features depend only on its centre, so each row's similarity
 * is computed from exactly the values it would have had alone. Only one patch's features are held
 * at a time (about 115 MB at base_chns 24). `onPatch(i)` ticks once per row of structure i.
 */
export async function refineAll(
  net: MedlamNet,
  pre: Pick<Preprocessed, 'data' | 'shape' | 'pad'>,
  supports: SupportFeatures[],
  coarseVox: Vec3[][],
  c: MedlamConstants,
  signal?: AbortSignal,
  onPatch?: (structure: number) => void,
): Promise<MssResult[]> {
  const P = c.patchSize as Shape3;
  const half = P.map((p) => p / 2);
  const nOut = P[0] * P[1] * P[2];
  const sim = new Float32Array(nOut);
  const scaled = new Float32Array(nOut);
  const groups = new Map<string, { ctr: Vec3; jobs: { i: number; r: number }[] }>();
  const centres = supports.map((sup, i) =>
    Array.from({ length: sup.rows }, (_, r) => {
      const ctr = coarseVox[i]![r]!.map((v, a) => Math.min(Math.max(v, half[a]!), pre.shape[a]! - half[a]! - 1)) as Vec3;
      const key = ctr.join(',');
      const g = groups.get(key) ?? { ctr, jobs: [] };
      g.jobs.push({ i, r });
      groups.set(key, g);
      return ctr;
    }),
  );
  const found = supports.map((sup) => new Array<RowSimilarity | undefined>(sup.rows));
  for (const g of groups.values()) {
    throwIfAborted(signal);
    const q = await patchMaps(net, pre, g.ctr, P);
    for (const { i, r } of g.jobs) {
      found[i]![r] = await rowSimilarity(net, q, supports[i]!, r, P, sim, scaled);
      onPatch?.(i);
    }
  }
  return supports.map((sup, i) => {
    const res: MssResult = { centre: [], offset: [], maxSim: [], margin: [], refinedUnpadded: [] };
    for (let r = 0; r < sup.rows; r++) {
      const ctr = centres[i]![r]!;
      const f = found[i]![r]!;
      res.centre.push(ctr);
      res.offset.push(f.offset);
      res.maxSim.push(f.best);
      res.margin.push(f.best - f.second);
      res.refinedUnpadded.push(ctr.map((v, a) => v + f.offset[a]! - pre.pad) as Vec3);
    }
    return res;
  });
}

export interface PartResult {
  /** Six rows after the reference's min/max swap, as source voxel indices (i, j, k). */
  extremeIjk: Vec3[];
  extremeLps: Vec3[];
  /** Box corners as source voxel indices (inclusive) and in LPS. */
  cornerIjk: [Vec3, Vec3];
  cornerLps: [Vec3, Vec3];
}

/**
 * Back to the original grid (Q16-Q18): index scaling with round half-even, reorientation, then for
 * each canonical axis the rows (a, 3+a) swapped when they came out reversed along the source axis,
 * and the box taken from the designated rows (not the min/max over all six points).
 */
export function backTransform(g: Grid3mm, refinedUnpadded: Vec3[]): PartResult[] {
  const parts: PartResult[] = [];
  for (let p = 0; p < refinedUnpadded.length / 6; p++) {
    const ijk = refinedUnpadded.slice(p * 6, p * 6 + 6).map((u) => {
      const can = u.map((v, a) => roundHalfEven(v * (1 / g.zoom[a]!))) as Vec3;
      return canonicalToSource(g.map, can);
    });
    for (let a = 0; a < 3; a++) {
      const src = g.map.source[a]!;
      if (ijk[a]![src] > ijk[3 + a]![src]) [ijk[a], ijk[3 + a]] = [ijk[3 + a]!, ijk[a]!];
    }
    const lo: Vec3 = [0, 0, 0];
    const hi: Vec3 = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      const src = g.map.source[a]!;
      lo[src] = ijk[a]![src];
      hi[src] = ijk[3 + a]![src];
    }
    parts.push({
      extremeIjk: ijk,
      extremeLps: ijk.map((v) => voxelToPatient(g.source, v)),
      cornerIjk: [lo, hi],
      cornerLps: [voxelToPatient(g.source, lo), voxelToPatient(g.source, hi)],
    });
  }
  return parts;
}
