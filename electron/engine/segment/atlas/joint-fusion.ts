/**
 * Joint label fusion (Wang, Suh, Das, Pluta, Craige & Yushkevich, "Multi-atlas segmentation with
 * joint label fusion", IEEE TPAMI 35(3), 2013). Voting weights each template by how well it alone
 * matches the query; two templates that fail in the same way (the same mislabelled esophagus end,
 * the same neck flexion) then count twice. Joint label fusion models the templates' errors
 * together: at voxel x with patch N(x), the expected product of the label errors of templates i
 * and j is estimated from their intensity residuals against the query,
 *
 *   M_x(i, j) = ( mean_{y in N(x)} |A_i(y) - T(y)| |A_j(y) - T(y)| )^beta,
 *
 * and the weights minimising the expected squared error of the fused label under sum(w) = 1 are
 *
 *   w_x = (M_x + alpha I)^-1 1 / (1^T (M_x + alpha I)^-1 1).
 *
 * A_i is template i's CT warped onto the query (registration/template-job.ts keeps it on the
 * structure's crop), T the query. CT numbers are calibrated, so residuals are taken in HU (clipped,
 * in units of `unitHu`) instead of the paper's per-patch normalised intensities. The ridge alpha
 * is relative to the mean diagonal of M_x, so it means the same at any residual scale. Weights may
 * be negative (the paper keeps them so); the fused membership is clamped to 0..1.
 *
 * Templates whose structure maps outside the query (no warped mask) are left out here; a template's
 * residual outside its crop (more than the crop margin away from its mask, where it votes for
 * background) is its mean residual on the crop.
 */
import type { Volume } from '../../volume/volume.js';
import type { TemplateJobResult } from '../../registration/template-job.js';

export interface JointFusionOptions {
  /** Half-width of the cubic patch N(x), mm (per axis, at least one voxel). */
  patchRadiusMm: number;
  /** Exponent on the pairwise error products: larger trusts the best-matching templates more. */
  beta: number;
  /** Ridge added to M_x, as a fraction of its mean diagonal. */
  alpha: number;
  /** HU window the residuals are measured in (air below, dense bone above count alike). */
  clipHu: [number, number];
  /** HU per residual unit. */
  unitHu: number;
  /**
   * Local search (Wang et al., section 3.3): each template voxel is replaced by the one within this
   * radius (mm per axis; 0: none) whose patch best matches the query's patch, which absorbs
   * registration errors of a voxel or two.
   */
  searchMm?: number;
  /** Clamp negative weights to 0 (and renormalise). */
  nonNegative?: boolean;
}

/** Voxels of the domain processed at once (bounds memory: (k(k+1)/2 + 2k) floats per voxel). */
const SLAB_VOXELS = 1 << 20;

interface Member {
  lo: number[];
  dims: number[];
  prob: Uint8Array;
  intensity: Int16Array;
  meanResidual: number;
}

/** The jointly fused membership of one structure on the query grid, 0..1 per voxel. */
export function jointFusionMembership(name: string, volume: Volume, results: TemplateJobResult[], opts: JointFusionOptions, slabVoxels = SLAB_VOXELS): Float32Array {
  const [nx, ny, nz] = volume.dims;
  const out = new Float32Array(nx * ny * nz);
  const [clo, chi] = opts.clipHu;
  const res = (hu: number): number => (hu <= clo ? clo : hu >= chi ? chi : hu) / opts.unitHu;
  const members: Member[] = [];
  for (const r of results) {
    const s = r.structures.find((x) => x.name === name);
    if (!s?.mask) continue;
    const { crop, prob, intensity } = s.mask;
    if (!intensity) throw new RangeError(`joint label fusion of ${name}: a template's warped CT was not kept (fusionMethod 'joint' must be set for the registration jobs)`);
    const m: Member = { lo: [...crop.lo], dims: [...crop.dims], prob, intensity, meanResidual: 0 };
    if (opts.searchMm && opts.searchMm > 0) searchShift(m, volume, opts);
    let acc = 0;
    let idx = 0;
    for (let k = 0; k < crop.dims[2]; k++) {
      for (let j = 0; j < crop.dims[1]; j++) {
        let q = crop.lo[0] + nx * (crop.lo[1] + j + ny * (crop.lo[2] + k));
        for (let i = 0; i < crop.dims[0]; i++, idx++, q++) acc += Math.abs(res(intensity[idx]!) - res(volume.data[q]!));
      }
    }
    m.meanResidual = idx > 0 ? acc / idx : 0;
    members.push(m);
  }
  const K = members.length;
  if (K === 0) return out;
  // The domain: the union of the templates' crops.
  const lo = [0, 1, 2].map((a) => Math.min(...members.map((m) => m.lo[a]!)));
  const hi = [0, 1, 2].map((a) => Math.max(...members.map((m) => m.lo[a]! + m.dims[a]! - 1)));
  const dx = hi[0]! - lo[0]! + 1;
  const dy = hi[1]! - lo[1]! + 1;
  const r = [0, 1, 2].map((a) => Math.max(1, Math.round(opts.patchRadiusMm / volume.spacing[a]!)));
  const rz = r[2]!;
  const slab = Math.max(1, Math.floor(slabVoxels / (dx * dy)));
  const M = new Float64Array(K * K);
  const w = new Float64Array(K);
  for (let z0 = lo[2]!; z0 <= hi[2]!; z0 += slab) {
    const z1 = Math.min(hi[2]!, z0 + slab - 1);
    // The slab plus a halo of the patch radius, so that box means at its faces are exact.
    const e0 = Math.max(lo[2]!, z0 - rz);
    const e1 = Math.min(hi[2]!, z1 + rz);
    const dz = e1 - e0 + 1;
    const n = dx * dy * dz;
    const prob: Float32Array[] = [];
    const delta: Float32Array[] = [];
    for (const m of members) {
      const p = new Float32Array(n);
      const d = new Float32Array(n).fill(m.meanResidual);
      for (let k = Math.max(e0, m.lo[2]!); k <= Math.min(e1, m.lo[2]! + m.dims[2]! - 1); k++) {
        for (let j = m.lo[1]!; j < m.lo[1]! + m.dims[1]!; j++) {
          let src = m.dims[0]! * (j - m.lo[1]! + m.dims[1]! * (k - m.lo[2]!));
          let dst = m.lo[0]! - lo[0]! + dx * (j - lo[1]! + dy * (k - e0));
          let q = m.lo[0]! + nx * (j + ny * k);
          for (let i = 0; i < m.dims[0]!; i++, src++, dst++, q++) {
            p[dst] = m.prob[src]! / 255;
            d[dst] = Math.abs(res(m.intensity[src]!) - res(volume.data[q]!));
          }
        }
      }
      prob.push(p);
      delta.push(d);
    }
    const prod: Float32Array[] = [];
    for (let a = 0; a < K; a++) {
      for (let b = a; b < K; b++) {
        const f = new Float32Array(n);
        const da = delta[a]!;
        const db = delta[b]!;
        for (let q = 0; q < n; q++) f[q] = da[q]! * db[q]!;
        boxMean(f, [dx, dy, dz], r);
        prod.push(f);
      }
    }
    for (let k = z0; k <= z1; k++) {
      for (let j = 0; j < dy; j++) {
        let q = dx * (j + dy * (k - e0));
        let g = lo[0]! + nx * (lo[1]! + j + ny * k);
        for (let i = 0; i < dx; i++, q++, g++) {
          let pmin = 1;
          let pmax = 0;
          for (let t = 0; t < K; t++) {
            const v = prob[t]![q]!;
            if (v < pmin) pmin = v;
            if (v > pmax) pmax = v;
          }
          // Weights sum to 1: where every template says the same, so does the fusion.
          if (pmax - pmin < 1e-6) {
            out[g] = pmax;
            continue;
          }
          let pi = 0;
          let trace = 0;
          for (let a = 0; a < K; a++) {
            for (let b = a; b < K; b++, pi++) {
              const v = Math.pow(prod[pi]![q]!, opts.beta);
              M[a * K + b] = v;
              M[b * K + a] = v;
            }
            trace += M[a * K + a]!;
          }
          const ridge = opts.alpha * (trace / K) + 1e-12;
          for (let a = 0; a < K; a++) M[a * K + a] = M[a * K + a]! + ridge;
          solveOnes(M, K, w);
          if (opts.nonNegative) for (let t = 0; t < K; t++) w[t] = Math.max(0, w[t]!);
          let sw = 0;
          for (let t = 0; t < K; t++) sw += w[t]!;
          if (!(sw > 0)) {
            w.fill(1);
            sw = K;
          }
          let p = 0;
          for (let t = 0; t < K; t++) p += (w[t]! / sw) * prob[t]![q]!;
          out[g] = p < 0 ? 0 : p > 1 ? 1 : p;
        }
      }
    }
  }
  return out;
}

/**
 * Replaces a member's membership and intensity at each crop voxel by those at the offset (within
 * the search radius, inside the crop) whose patch has the smallest mean squared HU difference to
 * the query's patch there.
 */
function searchShift(m: Member, volume: Volume, opts: JointFusionOptions): void {
  const [nx, ny] = volume.dims;
  const [cx, cy, cz] = m.dims as [number, number, number];
  const n = cx * cy * cz;
  const [clo, chi] = opts.clipHu;
  const res = (hu: number): number => (hu <= clo ? clo : hu >= chi ? chi : hu) / opts.unitHu;
  const t = new Float32Array(n);
  const a = new Float32Array(n);
  let idx = 0;
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) {
      let q = m.lo[0]! + nx * (m.lo[1]! + j + ny * (m.lo[2]! + k));
      for (let i = 0; i < cx; i++, idx++, q++) {
        t[idx] = res(volume.data[q]!);
        a[idx] = res(m.intensity[idx]!);
      }
    }
  }
  const s = [0, 1, 2].map((x) => Math.round(opts.searchMm! / volume.spacing[x]!));
  const r = [0, 1, 2].map((x) => Math.max(1, Math.round(opts.patchRadiusMm / volume.spacing[x]!)));
  const best = new Float32Array(n).fill(Infinity);
  const from = new Int32Array(n);
  for (let idx2 = 0; idx2 < n; idx2++) from[idx2] = idx2;
  const d = new Float32Array(n);
  const src = new Int32Array(n);
  for (let oz = -s[2]!; oz <= s[2]!; oz++) {
    for (let oy = -s[1]!; oy <= s[1]!; oy++) {
      for (let ox = -s[0]!; ox <= s[0]!; ox++) {
        let v = 0;
        for (let k = 0; k < cz; k++) {
          const kk = Math.min(cz - 1, Math.max(0, k + oz));
          for (let j = 0; j < cy; j++) {
            const jj = Math.min(cy - 1, Math.max(0, j + oy));
            for (let i = 0; i < cx; i++, v++) {
              const ii = Math.min(cx - 1, Math.max(0, i + ox));
              const u = ii + cx * (jj + cy * kk);
              src[v] = u;
              const e = a[u]! - t[v]!;
              d[v] = e * e;
            }
          }
        }
        boxMean(d, [cx, cy, cz], r);
        // Ties keep the smaller shift (offset 0 is visited with its own cost; strict < below).
        const penalty = 1e-6 * (Math.abs(ox) + Math.abs(oy) + Math.abs(oz));
        for (let v2 = 0; v2 < n; v2++) {
          const c = d[v2]! + penalty;
          if (c < best[v2]!) {
            best[v2] = c;
            from[v2] = src[v2]!;
          }
        }
      }
    }
  }
  const prob = new Uint8Array(n);
  const intensity = new Int16Array(n);
  for (let v = 0; v < n; v++) {
    prob[v] = m.prob[from[v]!]!;
    intensity[v] = m.intensity[from[v]!]!;
  }
  m.prob = prob;
  m.intensity = intensity;
}

/** Solves M w = 1 for a symmetric positive definite M (Cholesky, in place in M). */
export function solveOnes(M: Float64Array, K: number, w: Float64Array): void {
  for (let j = 0; j < K; j++) {
    let d = M[j * K + j]!;
    for (let s = 0; s < j; s++) d -= M[j * K + s]! * M[j * K + s]!;
    const l = Math.sqrt(Math.max(d, 1e-300));
    M[j * K + j] = l;
    for (let i = j + 1; i < K; i++) {
      let v = M[i * K + j]!;
      for (let s = 0; s < j; s++) v -= M[i * K + s]! * M[j * K + s]!;
      M[i * K + j] = v / l;
    }
  }
  // L y = 1, then L^T w = y.
  for (let i = 0; i < K; i++) {
    let v = 1;
    for (let s = 0; s < i; s++) v -= M[i * K + s]! * w[s]!;
    w[i] = v / M[i * K + i]!;
  }
  for (let i = K - 1; i >= 0; i--) {
    let v = w[i]!;
    for (let s = i + 1; s < K; s++) v -= M[s * K + i]! * w[s]!;
    w[i] = v / M[i * K + i]!;
  }
}

/** In-place mean over the (2r+1)^3 box around each voxel, clipped at the domain's faces. */
export function boxMean(f: Float32Array, dims: number[], r: number[]): void {
  const [dx, dy, dz] = dims as [number, number, number];
  const line = new Float64Array(Math.max(dx, dy, dz) + 1);
  const strides = [1, dx, dx * dy];
  for (let axis = 0; axis < 3; axis++) {
    const len = dims[axis]!;
    const stride = strides[axis]!;
    const ra = r[axis]!;
    const others = (dx * dy * dz) / len;
    for (let o = 0; o < others; o++) {
      // The first voxel of line o along `axis`.
      let base: number;
      if (axis === 0) base = o * dx;
      else if (axis === 1) base = (o % dx) + dx * dy * Math.floor(o / dx);
      else base = o;
      line[0] = 0;
      for (let t = 0; t < len; t++) line[t + 1] = line[t]! + f[base + t * stride]!;
      for (let t = 0; t < len; t++) {
        const a = Math.max(0, t - ra);
        const b = Math.min(len - 1, t + ra);
        f[base + t * stride] = (line[b + 1]! - line[a]!) / (b - a + 1);
      }
    }
  }
}
