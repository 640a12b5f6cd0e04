/**
 * Deformable registration by symmetric-force demons (Thirion, Med Image Anal 1998; the
 * symmetric/ESM force of Vercauteren et al., NeuroImage 2009 and ITK's
 * FastSymmetricForcesDemonsRegistrationFilter), multi-resolution, on the query grid after an
 * affine pre-alignment. The displacement field u (LPS mm, one vector per query voxel) composes with
 * the affine A: a query position x corresponds to the template position A(x + u(x)).
 *
 * Update per iteration: du = (F - W) g / (|g|^2 + (F - W)^2 / K), g = (grad F + grad W) / 2 in
 * intensity per mm, K = mean squared spacing (mm^2), so |du| <= sqrt(K)/2 (half a voxel). du is
 * smoothed (fluid-like, sigma_fluid voxels) before it is added, u after (diffusion-like, sigma_diff
 * voxels), ITK's "update field" and "displacement field" smoothing.
 */
import type { Geometry, Vec3 } from '../volume/geometry.js';
import { downsample, patientToVoxelMatrix, sampleVoxel, smoothInPlace, voxelGradient, voxelToPatientMatrix, type Image, type Pyramid } from './image.js';
import { applyMat34, composeMat34, type Mat34 } from './transform.js';

export interface DemonsOptions {
  /** Pyramid spacings (mm), coarse to fine; the finest is never finer than the query. */
  levels?: number[];
  iterations?: number[];
  sigmaFluid?: number;
  sigmaDiff?: number;
  checkpoint?(): void;
  /**
   * How an iteration's update du joins the field: 'additive' u += du (Thirion's classic demons), or
   * 'compositive' x + u(x) -> the same after x + du(x), i.e. u(x) <- du(x) + u(x + du(x)), the
   * diffeomorphic demons' composition of the current map with the small update (Vercauteren et
   * al., NeuroImage 2009; du is at most half a voxel here, so exp(du) is id + du to first order).
   */
  update?: 'additive' | 'compositive';
  /** The moving image's pyramid, shared by every structure registered against the same template. */
  movingPyramid?: Pyramid;
}

/** A displacement field on a grid: u(x) in LPS mm, three planes. */
export interface DisplacementField extends Geometry {
  ux: Float32Array;
  uy: Float32Array;
  uz: Float32Array;
}

/** Samples the field at an LPS position (trilinear; zero outside, where the affine alone holds). */
export function fieldAt(f: DisplacementField, p: Vec3, p2v: number[] = patientToVoxelMatrix(f)): Vec3 {
  const v = applyMat34(p2v, p);
  const gx = { ...f, data: f.ux };
  return [sampleVoxel(gx, v[0], v[1], v[2], 0), sampleVoxel({ ...f, data: f.uy }, v[0], v[1], v[2], 0), sampleVoxel({ ...f, data: f.uz }, v[0], v[1], v[2], 0)];
}

/** The field resampled onto another grid (trilinear, in mm, so grids may differ in every way). */
export function resampleField(f: DisplacementField, g: Geometry): DisplacementField {
  const n = g.dims[0] * g.dims[1] * g.dims[2];
  const out: DisplacementField = { dims: [...g.dims], spacing: [...g.spacing], origin: [...g.origin], direction: g.direction, ux: new Float32Array(n), uy: new Float32Array(n), uz: new Float32Array(n) };
  const v2p = voxelToPatientMatrix(g);
  const p2v = patientToVoxelMatrix(f);
  const compose = composeMat34(p2v, v2p);
  const ix = { ...f, data: f.ux };
  const iy = { ...f, data: f.uy };
  const iz = { ...f, data: f.uz };
  let idx = 0;
  for (let k = 0; k < g.dims[2]; k++) {
    for (let j = 0; j < g.dims[1]; j++) {
      for (let i = 0; i < g.dims[0]; i++, idx++) {
        const v = applyMat34(compose, [i, j, k]);
        // Clamp to the source grid: beyond it the nearest border displacement is the best guess.
        const x = Math.min(Math.max(v[0], 0), f.dims[0] - 1);
        const y = Math.min(Math.max(v[1], 0), f.dims[1] - 1);
        const z = Math.min(Math.max(v[2], 0), f.dims[2] - 1);
        out.ux[idx] = sampleVoxel(ix, x, y, z, 0);
        out.uy[idx] = sampleVoxel(iy, x, y, z, 0);
        out.uz[idx] = sampleVoxel(iz, x, y, z, 0);
      }
    }
  }
  return out;
}

/**
 * The template warped onto grid g: W(x) = M(A(x + u(x))). `moving` should already be smoothed to
 * about g's spacing (a pyramid level) so that this sampling does not alias.
 */
export function warpImage(moving: Image, affine: Mat34, g: Geometry, u: DisplacementField | undefined, outside = 0): Float32Array {
  const n = g.dims[0] * g.dims[1] * g.dims[2];
  const out = new Float32Array(n);
  const v2p = voxelToPatientMatrix(g);
  const toMoving = composeMat34(patientToVoxelMatrix(moving), affine);
  let idx = 0;
  for (let k = 0; k < g.dims[2]; k++) {
    for (let j = 0; j < g.dims[1]; j++) {
      for (let i = 0; i < g.dims[0]; i++, idx++) {
        const p = applyMat34(v2p, [i, j, k]);
        if (u) {
          p[0] += u.ux[idx]!;
          p[1] += u.uy[idx]!;
          p[2] += u.uz[idx]!;
        }
        const v = applyMat34(toMoving, p);
        out[idx] = sampleVoxel(moving, v[0], v[1], v[2], outside);
      }
    }
  }
  return out;
}

/** grad (intensity per mm, LPS) from voxel-axis gradients: D S^-1 grad_voxel. */
function toMmGradient(g: Geometry, gv: [Float32Array, Float32Array, Float32Array]): [Float32Array, Float32Array, Float32Array] {
  const d = g.direction;
  const s = g.spacing;
  const n = gv[0].length;
  const out: [Float32Array, Float32Array, Float32Array] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let q = 0; q < n; q++) {
    const a = gv[0][q]! / s[0];
    const b = gv[1][q]! / s[1];
    const c = gv[2][q]! / s[2];
    out[0][q] = d[0] * a + d[1] * b + d[2] * c;
    out[1][q] = d[3] * a + d[4] * b + d[5] * c;
    out[2][q] = d[6] * a + d[7] * b + d[8] * c;
  }
  return out;
}

/**
 * Demons registration of `moving` (template) to `fixed` (query), both normalised intensities,
 * starting from `affine` (query LPS -> template LPS). Returns the field on the finest level's grid.
 */
export function registerDemons(fixed: Image, moving: Image, affine: Mat34, opts: DemonsOptions = {}): DisplacementField {
  const levels = opts.levels ?? [8, 4];
  const iterations = opts.iterations ?? [40, 20];
  const sigmaFluid = opts.sigmaFluid ?? 1.0;
  const sigmaDiff = opts.sigmaDiff ?? 1.5;
  let u: DisplacementField | undefined;
  for (let lvIdx = 0; lvIdx < levels.length; lvIdx++) {
    const s = levels[lvIdx]!;
    const F = downsample(fixed, s);
    const M = opts.movingPyramid ? opts.movingPyramid.level(s) : downsample(moving, s);
    const n = F.data.length;
    u = u ? resampleField(u, F) : { dims: [...F.dims], spacing: [...F.spacing], origin: [...F.origin], direction: F.direction, ux: new Float32Array(n), uy: new Float32Array(n), uz: new Float32Array(n) };
    const gF = toMmGradient(F, voxelGradient(F));
    const K = (F.spacing[0] ** 2 + F.spacing[1] ** 2 + F.spacing[2] ** 2) / 3;
    const du: [Float32Array, Float32Array, Float32Array] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    const fluid: Vec3 = [sigmaFluid, sigmaFluid, sigmaFluid];
    const diff: Vec3 = [sigmaDiff, sigmaDiff, sigmaDiff];
    for (let it = 0; it < (iterations[lvIdx] ?? 20); it++) {
      opts.checkpoint?.();
      const W = warpImage(M, affine, F, u);
      const gW = toMmGradient(F, voxelGradient({ ...F, data: W }));
      for (let q = 0; q < n; q++) {
        const diffI = F.data[q]! - W[q]!;
        const gx = 0.5 * (gF[0][q]! + gW[0][q]!);
        const gy = 0.5 * (gF[1][q]! + gW[1][q]!);
        const gz = 0.5 * (gF[2][q]! + gW[2][q]!);
        const den = gx * gx + gy * gy + gz * gz + (diffI * diffI) / K;
        if (den < 1e-12) {
          du[0][q] = 0;
          du[1][q] = 0;
          du[2][q] = 0;
          continue;
        }
        const f = diffI / den;
        du[0][q] = f * gx;
        du[1][q] = f * gy;
        du[2][q] = f * gz;
      }
      if (sigmaFluid > 0) for (const c of du) smoothInPlace(c, F.dims, fluid);
      if (opts.update === 'compositive') composeUpdate(u, du);
      else {
        for (let q = 0; q < n; q++) {
          u.ux[q] = u.ux[q]! + du[0][q]!;
          u.uy[q] = u.uy[q]! + du[1][q]!;
          u.uz[q] = u.uz[q]! + du[2][q]!;
        }
      }
      if (sigmaDiff > 0) for (const c of [u.ux, u.uy, u.uz]) smoothInPlace(c, F.dims, diff);
    }
  }
  return u!;
}

/**
 * u <- du + u o (id + du) in place (both LPS mm on u's grid): the field after first stepping by du,
 * then by u. u is sampled trilinearly, clamped to the grid (the nearest border displacement beyond it).
 */
export function composeUpdate(u: DisplacementField, du: [Float32Array, Float32Array, Float32Array]): void {
  const [nx, ny, nz] = u.dims;
  // LPS mm -> voxel offsets: the linear part of patientToVoxelMatrix.
  const L = patientToVoxelMatrix(u);
  const ix = { ...u, data: Float32Array.from(u.ux) };
  const iy = { ...u, data: Float32Array.from(u.uy) };
  const iz = { ...u, data: Float32Array.from(u.uz) };
  let q = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, q++) {
        const dx = du[0][q]!;
        const dy = du[1][q]!;
        const dz = du[2][q]!;
        const x = Math.min(Math.max(i + L[0]! * dx + L[1]! * dy + L[2]! * dz, 0), nx - 1);
        const y = Math.min(Math.max(j + L[4]! * dx + L[5]! * dy + L[6]! * dz, 0), ny - 1);
        const z = Math.min(Math.max(k + L[8]! * dx + L[9]! * dy + L[10]! * dz, 0), nz - 1);
        u.ux[q] = dx + sampleVoxel(ix, x, y, z, 0);
        u.uy[q] = dy + sampleVoxel(iy, x, y, z, 0);
        u.uz[q] = dz + sampleVoxel(iz, x, y, z, 0);
      }
    }
  }
}
