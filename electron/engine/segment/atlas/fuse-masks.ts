/**
 * Multi-atlas label fusion on the query grid: the mean of the templates' memberships (each 0..1
 * after trilinear pulling), thresholded at 0.5. With binary template masks and one vote per
 * template this is majority voting; partial-volume memberships at the border break ties smoothly.
 * With beta > 0 and templates that carry a local similarity map, the average is weighted per voxel
 * (locally weighted voting, see fuseLocallyWeighted). The segmenter may refine the membership with
 * the query's HU (intensity-refine.ts) before fuseMasks thresholds it.
 */
import type { Volume } from '../../volume/volume.js';
import type { StructureFlag } from '../../localize/localizer.js';
import type { TemplateJobResult } from '../../registration/template-job.js';
import type { SegmentedStructure } from '../segmenter.js';

/**
 * The fused membership of one structure on the query grid, 0..1 per voxel: the templates' mean
 * membership, or with beta > 0 and similarity maps their locally weighted mean.
 */
export function fusedMembership(name: string, volume: Volume, results: TemplateJobResult[], beta = 0): Float32Array {
  const [nx, ny, nz] = volume.dims;
  const sum = new Float32Array(nx * ny * nz);
  const local = beta > 0 && results.some((r) => r.structures.some((x) => x.name === name && x.mask?.similarity));
  if (local) {
    fuseLocallyWeighted(name, volume, results, beta, sum);
    return sum;
  }
  let count = 0;
  for (const r of results) {
    const s = r.structures.find((x) => x.name === name);
    if (!s) continue;
    count++;
    if (!s.mask) continue; // no mask: the structure maps outside the query, a vote for background
    const { lo, dims } = s.mask.crop;
    let idx = 0;
    for (let k = 0; k < dims[2]; k++) {
      for (let j = 0; j < dims[1]; j++) {
        let q = lo[0] + nx * (lo[1] + j + ny * (lo[2] + k));
        for (let i = 0; i < dims[0]; i++, idx++, q++) sum[q] = sum[q]! + s.mask.prob[idx]! / 255;
      }
    }
  }
  if (count > 1) for (let q = 0; q < sum.length; q++) sum[q] = sum[q]! / count;
  return sum;
}

/**
 * The fused mask at `threshold`, with its confidence (local NCC times the templates' agreement with
 * the fused mask) and flags. `membership` replaces the fused membership (an intensity-refined one).
 */
export function fuseMasks(name: string, volume: Volume, results: TemplateJobResult[], threshold = 0.5, beta = 0, membership?: Float32Array): SegmentedStructure {
  const [nx, ny, nz] = volume.dims;
  const n = nx * ny * nz;
  const p = membership ?? fusedMembership(name, volume, results, beta);
  const votes: { mask: { lo: number[]; dims: number[]; prob: Uint8Array } | undefined; ncc: number }[] = [];
  for (const r of results) {
    const s = r.structures.find((x) => x.name === name);
    if (!s) continue;
    votes.push({ mask: s.mask ? { lo: s.mask.crop.lo, dims: s.mask.crop.dims, prob: s.mask.prob } : undefined, ncc: s.ncc });
  }
  const count = Math.max(1, votes.length);
  const mask = new Uint8Array(n);
  let voxels = 0;
  let touches = false;
  for (let q = 0; q < n; q++) {
    if (p[q]! >= threshold) {
      mask[q] = 1;
      voxels++;
      const k = Math.floor(q / (nx * ny));
      if (k === 0 || k === nz - 1) touches = true;
    }
  }
  // Agreement: mean Dice of each template's (binarised) mask with the fused one.
  let agree = 0;
  for (const v of votes) {
    if (!v.mask) continue;
    let a = 0;
    let inter = 0;
    const { lo, dims, prob } = v.mask;
    let idx = 0;
    for (let k = 0; k < dims[2]!; k++) {
      for (let j = 0; j < dims[1]!; j++) {
        let q = lo[0]! + nx * (lo[1]! + j + ny * (lo[2]! + k));
        for (let i = 0; i < dims[0]!; i++, idx++, q++) {
          if (prob[idx]! < 128) continue;
          a++;
          if (mask[q]) inter++;
        }
      }
    }
    agree += a + voxels > 0 ? (2 * inter) / (a + voxels) : 0;
  }
  agree /= count;
  const ncc = Math.max(0, Math.min(1, votes.reduce((acc, v) => acc + v.ncc, 0) / count));
  // A fusion can follow the one template that matches the query (joint label fusion does), and
  // then agrees with it; that the templates disagree among themselves still tells the reviewer to
  // look, so confidence is limited by their mutual agreement too.
  const confidence = voxels > 0 ? ncc * Math.min(agree, templateAgreement(votes.map((v) => v.mask))) : 0;
  const flags: StructureFlag[] = [];
  if (voxels === 0) flags.push('absent');
  else if (touches) flags.push('cut-off');
  if (confidence < 0.3) flags.push('low-confidence');
  const voxelCc = (volume.spacing[0] * volume.spacing[1] * volume.spacing[2]) / 1000;
  return { name, mask, voxels, volumeCc: voxels * voxelCc, confidence, flags };
}

/**
 * Mean pairwise Dice of the templates' binarised masks on the query grid (1 with fewer than two
 * templates); a template without a mask (mapped outside the query) agrees with none.
 */
export function templateAgreement(masks: ({ lo: number[]; dims: number[]; prob: Uint8Array } | undefined)[]): number {
  if (masks.length < 2) return 1;
  const sizes = masks.map((m) => (m ? m.prob.reduce((a, p) => a + (p >= 128 ? 1 : 0), 0) : 0));
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < masks.length; a++) {
    for (let b = a + 1; b < masks.length; b++, pairs++) {
      const A = masks[a];
      const B = masks[b];
      if (!A || !B || sizes[a]! + sizes[b]! === 0) continue;
      // Intersection over the overlap of the two crops (query-grid voxel indices).
      const lo = [0, 1, 2].map((x) => Math.max(A.lo[x]!, B.lo[x]!));
      const hi = [0, 1, 2].map((x) => Math.min(A.lo[x]! + A.dims[x]!, B.lo[x]! + B.dims[x]!));
      let inter = 0;
      for (let k = lo[2]!; k < hi[2]!; k++) {
        for (let j = lo[1]!; j < hi[1]!; j++) {
          for (let i = lo[0]!; i < hi[0]!; i++) {
            const ia = i - A.lo[0]! + A.dims[0]! * (j - A.lo[1]! + A.dims[1]! * (k - A.lo[2]!));
            const ib = i - B.lo[0]! + B.dims[0]! * (j - B.lo[1]! + B.dims[1]! * (k - B.lo[2]!));
            if (A.prob[ia]! >= 128 && B.prob[ib]! >= 128) inter++;
          }
        }
      }
      sum += (2 * inter) / (sizes[a]! + sizes[b]!);
    }
  }
  return sum / pairs;
}

/**
 * Locally weighted voting: sum = sum_t w_t p_t / sum_t w_t with w_t = exp(beta (lncc_t - 1)) per
 * voxel. Outside a template's crop its membership is 0 and its weight the mean of its crop's, so it
 * still votes for background there.
 */
function fuseLocallyWeighted(name: string, volume: Volume, results: TemplateJobResult[], beta: number, sum: Float32Array): void {
  const [nx, ny] = volume.dims;
  const den = new Float32Array(sum.length);
  const weight = (u8: number): number => Math.exp(beta * (u8 / 127.5 - 2));
  const masks = results.map((r) => r.structures.find((x) => x.name === name)).filter((s) => s !== undefined);
  const outside = masks.map((s) => {
    const sim = s.mask?.similarity;
    if (!sim || sim.length === 0) return weight(127.5);
    let acc = 0;
    for (let n = 0; n < sim.length; n++) acc += weight(sim[n]!);
    return acc / sim.length;
  });
  const base = outside.reduce((a, b) => a + b, 0);
  den.fill(base);
  masks.forEach((s, t) => {
    if (!s.mask) return;
    const { lo, dims } = s.mask.crop;
    const { prob, similarity } = s.mask;
    let idx = 0;
    for (let k = 0; k < dims[2]; k++) {
      for (let j = 0; j < dims[1]; j++) {
        let q = lo[0] + nx * (lo[1] + j + ny * (lo[2] + k));
        for (let i = 0; i < dims[0]; i++, idx++, q++) {
          const w = similarity ? weight(similarity[idx]!) : outside[t]!;
          den[q] = den[q]! + w - outside[t]!;
          sum[q] = sum[q]! + (w * prob[idx]!) / 255;
        }
      }
    }
  });
  for (let q = 0; q < sum.length; q++) sum[q] = sum[q]! / den[q]!;
}
