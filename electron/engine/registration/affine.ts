/**
 * Intensity-based rigid then affine registration of a template CT (moving) to a query CT (fixed),
 * multi-resolution, maximising normalized cross-correlation (NCC) over a fixed random sample of the
 * query's voxels. The design follows elastix's usual CT-to-CT recipe (Klein et al., IEEE TMI 2010:
 * a Gaussian pyramid, random voxel samples per level, rigid then affine stages) with ITK's
 * regular-step gradient descent (step halved whenever the metric gets worse).
 *
 * Intensities are expected clipped and normalised to [0, 1] (see clipNormalize): the atlas backend
 * uses HU in [-200, 1500], which flattens air, lung and fat into one value and keeps soft tissue and
 * bone contrast, so the metric follows anatomy rather than the couch or the field-of-view edge.
 */
import type { Vec3 } from '../volume/geometry.js';
import { prng } from '../prng.js';
import { centreOfMass, patientToVoxelMatrix, voxelToPatientMatrix, applyAffine, voxelBox, Pyramid, type Image } from './image.js';
import { centredAffine, eulerToMatrix, type Mat34 } from './transform.js';

export interface AffineOptions {
  /** Pyramid spacings in mm, coarse to fine (a level never goes finer than the images). */
  levels?: number[];
  /** Random query voxels per level. */
  samples?: number;
  rigidIterations?: number;
  affineIterations?: number;
  /** Skip the affine stage (rigid only): the benchmark's baseline. */
  rigidOnly?: boolean;
  /** Start from this transform (query LPS -> template LPS) instead of centring and searching. */
  init?: Mat34;
  /** Sample only query voxels inside this LPS box: a local registration around one organ. */
  region?: { min: Vec3; max: Vec3 };
  /** Called between iterations; throw from it to cancel. */
  checkpoint?(): void;
  /**
   * Pyramids of `fixed` and `moving` to reuse across registrations of the same pair (their levels
   * are the same downsampled copies this function would build; see image.ts Pyramid).
   */
  pyramids?: { fixed: Pyramid; moving: Pyramid };
}

export interface AffineResult {
  /** Query LPS mm -> template LPS mm. */
  matrix: Mat34;
  /** NCC at the finest level, -1..1. */
  ncc: number;
  evaluations: number;
}

interface Level {
  fixed: Image;
  moving: Image;
  grad: [Float32Array, Float32Array, Float32Array];
  /** Sample positions relative to the centre, LPS mm, xyz interleaved. */
  pos: Float32Array;
  val: Float32Array;
}

function makeLevel(pyr: { fixed: Pyramid; moving: Pyramid }, spacing: number, samples: number, centre: Vec3, region?: { min: Vec3; max: Vec3 }): Level {
  const f = pyr.fixed.level(spacing);
  const m = pyr.moving.level(spacing);
  const grad = pyr.moving.gradient(spacing);
  // Sample the body (anything above the clip floor) and a tenth of the background, so the metric
  // is not dominated by air yet still sees where the body ends.
  const rand = prng(12345);
  const cand: number[] = [];
  const v2p = voxelToPatientMatrix(f);
  const [nx, ny, nz] = f.dims;
  if (region) {
    // Only the voxel box around the region can hold candidates (one voxel of slack; the exact
    // test below decides), visited in the same raster order as a full scan.
    const { lo, hi } = voxelBox(patientToVoxelMatrix(f), region);
    const dims = [nx, ny, nz];
    const b0 = lo.map((v) => Math.max(0, Math.floor(v) - 1));
    const b1 = hi.map((v, a) => Math.min(dims[a]! - 1, Math.ceil(v) + 1));
    for (let k = b0[2]!; k <= b1[2]!; k++) {
      for (let j = b0[1]!; j <= b1[1]!; j++) {
        for (let i = b0[0]!; i <= b1[0]!; i++) {
          const p = applyAffine(v2p, [i, j, k]);
          if (p.some((v, a) => v < region.min[a]! || v > region.max[a]!)) continue;
          cand.push(i + nx * (j + ny * k));
        }
      }
    }
  } else {
    for (let n = 0; n < f.data.length; n++) if ((f.data[n] as number) > 0.001 || rand() < 0.1) cand.push(n);
  }
  for (let n = cand.length - 1; n > 0; n--) {
    const r = Math.floor(rand() * (n + 1));
    const tmp = cand[n] as number;
    cand[n] = cand[r] as number;
    cand[r] = tmp;
  }
  const count = Math.min(samples, cand.length);
  const pos = new Float32Array(count * 3);
  const val = new Float32Array(count);
  for (let s = 0; s < count; s++) {
    const n = cand[s] as number;
    const i = n % nx;
    const j = Math.floor(n / nx) % ny;
    const k = Math.floor(n / (nx * ny));
    const p = applyAffine(v2p, [i, j, k]);
    pos[s * 3] = p[0] - centre[0];
    pos[s * 3 + 1] = p[1] - centre[1];
    pos[s * 3 + 2] = p[2] - centre[2];
    val[s] = f.data[n] as number;
  }
  return { fixed: f, moving: m, grad, pos, val };
}

/**
 * NCC of the level's samples under y = A x' + centre + t, and its gradient with respect to A
 * (9, row-major) and t (3). dNCC/dm_i = (f'_i - (Sfm / Smm) m'_i) / sqrt(Sff Smm) with primes
 * meaning mean-subtracted; dm_i/dy = P^T grad_voxel (P: LPS mm -> voxel of the moving image).
 */
export function nccAndGradient(lv: Level, a: ArrayLike<number>, t: Vec3, centre: Vec3, wantGrad: boolean): { ncc: number; grad: number[] } {
  const m = lv.moving;
  const P = patientToVoxelMatrix(m);
  const [nx, ny, nz] = m.dims;
  const sy = nx;
  const sz = nx * ny;
  const N = lv.val.length;
  const mv = new Float32Array(N);
  const gm = wantGrad ? new Float32Array(N * 3) : undefined;
  const d = m.data;
  const [gx, gy, gz] = lv.grad;
  let sf = 0;
  let smv = 0;
  for (let s = 0; s < N; s++) {
    const x = lv.pos[s * 3] as number;
    const y = lv.pos[s * 3 + 1] as number;
    const z = lv.pos[s * 3 + 2] as number;
    const py = a[0]! * x + a[1]! * y + a[2]! * z + centre[0] + t[0];
    const pyy = a[3]! * x + a[4]! * y + a[5]! * z + centre[1] + t[1];
    const pyz = a[6]! * x + a[7]! * y + a[8]! * z + centre[2] + t[2];
    const vx = P[0]! * py + P[1]! * pyy + P[2]! * pyz + P[3]!;
    const vy = P[4]! * py + P[5]! * pyy + P[6]! * pyz + P[7]!;
    const vz = P[8]! * py + P[9]! * pyy + P[10]! * pyz + P[11]!;
    sf += lv.val[s] as number;
    if (vx < 0 || vy < 0 || vz < 0 || vx > nx - 1 || vy > ny - 1 || vz > nz - 1) continue; // 0: clip floor
    let i = Math.floor(vx);
    let j = Math.floor(vy);
    let k = Math.floor(vz);
    if (i >= nx - 1) i = nx - 2;
    if (j >= ny - 1) j = ny - 2;
    if (k >= nz - 1) k = nz - 2;
    const fx = vx - i;
    const fy = vy - j;
    const fz = vz - k;
    const n = i + sy * j + sz * k;
    const w000 = (1 - fx) * (1 - fy) * (1 - fz);
    const w100 = fx * (1 - fy) * (1 - fz);
    const w010 = (1 - fx) * fy * (1 - fz);
    const w110 = fx * fy * (1 - fz);
    const w001 = (1 - fx) * (1 - fy) * fz;
    const w101 = fx * (1 - fy) * fz;
    const w011 = (1 - fx) * fy * fz;
    const w111 = fx * fy * fz;
    const n1 = n + 1;
    const n2 = n + sy;
    const n3 = n + sy + 1;
    const n4 = n + sz;
    const n5 = n + sz + 1;
    const n6 = n + sz + sy;
    const n7 = n + sz + sy + 1;
    const val =
      w000 * d[n]! + w100 * d[n1]! + w010 * d[n2]! + w110 * d[n3]! + w001 * d[n4]! + w101 * d[n5]! + w011 * d[n6]! + w111 * d[n7]!;
    mv[s] = val;
    smv += val;
    if (gm) {
      const ax = w000 * gx[n]! + w100 * gx[n1]! + w010 * gx[n2]! + w110 * gx[n3]! + w001 * gx[n4]! + w101 * gx[n5]! + w011 * gx[n6]! + w111 * gx[n7]!;
      const ay = w000 * gy[n]! + w100 * gy[n1]! + w010 * gy[n2]! + w110 * gy[n3]! + w001 * gy[n4]! + w101 * gy[n5]! + w011 * gy[n6]! + w111 * gy[n7]!;
      const az = w000 * gz[n]! + w100 * gz[n1]! + w010 * gz[n2]! + w110 * gz[n3]! + w001 * gz[n4]! + w101 * gz[n5]! + w011 * gz[n6]! + w111 * gz[n7]!;
      // dm/dy (LPS mm) = P_lin^T grad_voxel
      gm[s * 3] = P[0]! * ax + P[4]! * ay + P[8]! * az;
      gm[s * 3 + 1] = P[1]! * ax + P[5]! * ay + P[9]! * az;
      gm[s * 3 + 2] = P[2]! * ax + P[6]! * ay + P[10]! * az;
    }
  }
  const mf = sf / N;
  const mm = smv / N;
  let sff = 0;
  let smm = 0;
  let sfm = 0;
  for (let s = 0; s < N; s++) {
    const fp = (lv.val[s] as number) - mf;
    const mp = (mv[s] as number) - mm;
    sff += fp * fp;
    smm += mp * mp;
    sfm += fp * mp;
  }
  const denom = Math.sqrt(sff * smm);
  if (!(denom > 1e-12)) return { ncc: 0, grad: new Array<number>(12).fill(0) };
  const ncc = sfm / denom;
  const grad = new Array<number>(12).fill(0);
  if (gm) {
    const ratio = sfm / smm;
    for (let s = 0; s < N; s++) {
      const w = ((lv.val[s] as number) - mf - ratio * ((mv[s] as number) - mm)) / denom;
      if (w === 0) continue;
      const x = lv.pos[s * 3] as number;
      const y = lv.pos[s * 3 + 1] as number;
      const z = lv.pos[s * 3 + 2] as number;
      for (let r = 0; r < 3; r++) {
        const g = w * (gm[s * 3 + r] as number);
        grad[r * 3] = grad[r * 3]! + g * x;
        grad[r * 3 + 1] = grad[r * 3 + 1]! + g * y;
        grad[r * 3 + 2] = grad[r * 3 + 2]! + g * z;
        grad[9 + r] = grad[9 + r]! + g;
      }
    }
  }
  return { ncc, grad };
}

/** Typical lever arm (mm) that turns matrix-entry steps into displacements comparable to translations. */
const LEVER_MM = 80;

function dRotation(angles: Vec3): number[][] {
  const h = 1e-5;
  const out: number[][] = [];
  for (let q = 0; q < 3; q++) {
    const p = [...angles] as Vec3;
    const m = [...angles] as Vec3;
    p[q] = p[q]! + h;
    m[q] = m[q]! - h;
    const rp = eulerToMatrix(p[0], p[1], p[2]);
    const rm = eulerToMatrix(m[0], m[1], m[2]);
    out.push(rp.map((v, n) => (v - rm[n]!) / (2 * h)));
  }
  return out;
}

/**
 * Regular-step gradient ascent in scaled parameter space (translations in mm, matrix entries and
 * angles times LEVER_MM): step along the normalised gradient, halve the step when NCC does not
 * improve, stop when the step falls below minStep.
 */
function optimise(
  evalAt: (p: number[], wantGrad: boolean) => { ncc: number; grad: number[] },
  p0: number[],
  scales: number[],
  step0: number,
  minStep: number,
  maxIter: number,
  checkpoint: (() => void) | undefined,
): { p: number[]; ncc: number; evals: number } {
  let p = p0.slice();
  let cur = evalAt(p, true);
  let step = step0;
  let evals = 1;
  for (let it = 0; it < maxIter && step >= minStep; it++) {
    checkpoint?.();
    const g = cur.grad.map((v, n) => v / scales[n]!);
    const norm = Math.hypot(...g);
    if (!(norm > 0)) break;
    const trial = p.map((v, n) => v + (step * g[n]!) / norm / scales[n]!);
    const next = evalAt(trial, true);
    evals++;
    if (next.ncc > cur.ncc) {
      p = trial;
      cur = next;
      step *= 1.1;
    } else {
      step *= 0.5;
    }
  }
  return { p, ncc: cur.ncc, evals };
}

/** Rigid then affine registration; see the file comment. Both images normalised to [0, 1]. */
export function registerAffine(fixed: Image, moving: Image, opts: AffineOptions = {}): AffineResult {
  const levels = opts.levels ?? [12, 8, 5];
  const samples = opts.samples ?? 20000;
  const region = opts.region;
  const centre: Vec3 = region
    ? [0, 1, 2].map((q) => (region.min[q]! + region.max[q]!) / 2) as Vec3
    : centreOfMass(fixed, 0.001);
  let ncc = 0;
  let evaluations = 0;
  const built = levels.map((s) => ({ s, lv: undefined as Level | undefined }));
  const pyr = opts.pyramids ?? { fixed: new Pyramid(fixed), moving: new Pyramid(moving) };
  const levelAt = (n: number): Level => (built[n]!.lv ??= makeLevel(pyr, built[n]!.s, samples, centre, region));
  /** The affine stage over every level, from (a, t); `lever` scales the matrix entries' steps. */
  const affineStages = (a0: number[], t0: Vec3, lever: number): { a: number[]; t: Vec3; ncc: number; evals: number } => {
    const scales = [...new Array<number>(9).fill(lever), 1, 1, 1];
    let p = [...a0, ...t0];
    let best = 0;
    let evals = 0;
    for (let n = 0; n < levels.length; n++) {
      const lv = levelAt(n);
      const s = built[n]!.s;
      const evalAff = (q: number[], wantGrad: boolean): { ncc: number; grad: number[] } =>
        nccAndGradient(lv, q.slice(0, 9), [q[9]!, q[10]!, q[11]!], centre, wantGrad);
      const res = optimise(evalAff, p, scales, 0.5 * s, 0.05 * s, opts.affineIterations ?? 60, opts.checkpoint);
      p = res.p;
      best = res.ncc;
      evals += res.evals;
    }
    return { a: p.slice(0, 9), t: [p[9]!, p[10]!, p[11]!], ncc: best, evals };
  };
  if (opts.init) {
    // Local refinement: affine stage only, from the given transform (t = b - c + A c).
    const m = opts.init;
    const a = [m[0]!, m[1]!, m[2]!, m[4]!, m[5]!, m[6]!, m[8]!, m[9]!, m[10]!];
    const t: Vec3 = [0, 1, 2].map((r) => m[r * 4 + 3]! - centre[r]! + a[r * 3]! * centre[0] + a[r * 3 + 1]! * centre[1] + a[r * 3 + 2]! * centre[2]) as Vec3;
    // Matrix entries move half as freely as in the global stage: the init is already affine.
    const r = affineStages(a, t, LEVER_MM / 2);
    return { matrix: centredAffine(r.a, centre, r.t), ncc: r.ncc, evaluations: evaluations + r.evals };
  }
  const mcentre = centreOfMass(moving, 0.001);
  let angles: Vec3 = [0, 0, 0];
  let t: Vec3 = [mcentre[0] - centre[0], mcentre[1] - centre[1], mcentre[2] - centre[2]];
  let a: number[] = [1, 0, 0, 0, 1, 0, 0, 0, 1];

  // Coarse search over superior-inferior and anterior-posterior offsets: head-and-neck scans differ
  // most in how far the field of view reaches toward the shoulders, which biases the centre of mass.
  {
    const lv = levelAt(0);
    let best = { ncc: -Infinity, t, pitch: 0 };
    // Pitch (rotation about the left-right axis, LPS x) differs most between head positions.
    for (const pitch of [-0.3, -0.15, 0, 0.15, 0.3]) {
      const rot = eulerToMatrix(pitch, 0, 0);
      for (let dz = -60; dz <= 60; dz += 15) {
        for (let dy = -30; dy <= 30; dy += 15) {
          const tt: Vec3 = [t[0], t[1] + dy, t[2] + dz];
          const r = nccAndGradient(lv, rot, tt, centre, false);
          evaluations++;
          if (r.ncc > best.ncc) best = { ncc: r.ncc, t: tt, pitch };
        }
      }
    }
    t = best.t;
    angles = [best.pitch, 0, 0];
  }

  const rigidScales = [LEVER_MM, LEVER_MM, LEVER_MM, 1, 1, 1];
  for (let n = 0; n < levels.length; n++) {
    const lv = levelAt(n);
    const s = built[n]!.s;
    const evalRigid = (p: number[], wantGrad: boolean): { ncc: number; grad: number[] } => {
      const ang: Vec3 = [p[0]!, p[1]!, p[2]!];
      const r = nccAndGradient(lv, eulerToMatrix(ang[0], ang[1], ang[2]), [p[3]!, p[4]!, p[5]!], centre, wantGrad);
      if (!wantGrad) return r;
      const dR = dRotation(ang);
      const g = [0, 1, 2].map((q) => dR[q]!.reduce((acc, v, e) => acc + v * r.grad[e]!, 0));
      return { ncc: r.ncc, grad: [...g, r.grad[9]!, r.grad[10]!, r.grad[11]!] };
    };
    const res = optimise(evalRigid, [...angles, ...t], rigidScales, s, 0.05 * s, opts.rigidIterations ?? 60, opts.checkpoint);
    angles = [res.p[0]!, res.p[1]!, res.p[2]!];
    t = [res.p[3]!, res.p[4]!, res.p[5]!];
    ncc = res.ncc;
    evaluations += res.evals;
  }
  a = eulerToMatrix(angles[0], angles[1], angles[2]);
  if (!opts.rigidOnly) {
    const r = affineStages(a, t, LEVER_MM);
    a = r.a;
    t = r.t;
    ncc = r.ncc;
    evaluations += r.evals;
  }
  return { matrix: centredAffine(a, centre, t), ncc, evaluations };
}
