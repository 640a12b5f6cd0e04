/**
 * The compositive (diffeomorphic) demons update: the composition itself on known fields, and a
 * registration with it recovering a shift as the additive update does, with a field that stays
 * invertible (positive Jacobian determinant everywhere).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeUpdate, registerDemons, type DisplacementField } from '../../../electron/engine/registration/demons.js';
import { clipNormalize } from '../../../electron/engine/registration/image.js';
import { centredAffine, IDENTITY34 } from '../../../electron/engine/registration/transform.js';
import { cropForTemplateMask, warpMask } from '../../../electron/engine/registration/warp.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import { phantom } from './phantom.js';

const DIMS: Vec3 = [40, 36, 36];
const SPACING: Vec3 = [4, 4, 4];

function field(dims: Vec3, spacing: Vec3, f: (i: number, j: number, k: number) => Vec3): DisplacementField {
  const n = dims[0] * dims[1] * dims[2];
  const u: DisplacementField = { dims, spacing, origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], ux: new Float32Array(n), uy: new Float32Array(n), uz: new Float32Array(n) };
  let q = 0;
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, q++) [u.ux[q], u.uy[q], u.uz[q]] = f(i, j, k);
  return u;
}

test('composeUpdate: constant fields add; a zero update keeps u; u is sampled where du moved to', () => {
  const dims: Vec3 = [8, 7, 6];
  const spacing: Vec3 = [2, 2, 3];
  const n = 8 * 7 * 6;
  const u = field(dims, spacing, () => [1, -2, 0.5]);
  composeUpdate(u, [new Float32Array(n).fill(0.5), new Float32Array(n).fill(0.25), new Float32Array(n).fill(-1)]);
  assert.ok(Math.abs(u.ux[100]! - 1.5) < 1e-6 && Math.abs(u.uy[100]! + 1.75) < 1e-6 && Math.abs(u.uz[100]! + 0.5) < 1e-6);
  // u varies along x only (u_x = 0.1 * x in mm); du moves every voxel 2 mm (one voxel) along x.
  const ramp = field(dims, spacing, (i) => [0.1 * i * spacing[0], 0, 0]);
  const keep = Float32Array.from(ramp.ux);
  composeUpdate(ramp, [new Float32Array(n), new Float32Array(n), new Float32Array(n)]);
  assert.deepEqual(ramp.ux, keep);
  composeUpdate(ramp, [new Float32Array(n).fill(2), new Float32Array(n), new Float32Array(n)]);
  // Voxel 3 of a row: 2 + u(x + 2 mm) = 2 + 0.1 * 8 mm.
  assert.ok(Math.abs(ramp.ux[3]! - (2 + 0.8)) < 1e-5, `${ramp.ux[3]}`);
  // At the last voxel the sample clamps to the border: 2 + u(last).
  assert.ok(Math.abs(ramp.ux[7]! - (2 + 0.1 * 14)) < 1e-5, `${ramp.ux[7]}`);
});

function minJacobian(u: DisplacementField): number {
  const [nx, ny, nz] = u.dims;
  const [sx, sy, sz] = u.spacing;
  let min = Infinity;
  for (let k = 1; k < nz - 1; k++) for (let j = 1; j < ny - 1; j++) for (let i = 1; i < nx - 1; i++) {
    const q = i + nx * (j + ny * k);
    const d = (a: Float32Array, step: number, h: number): number => (a[q + step]! - a[q - step]!) / (2 * h);
    const J = [
      [1 + d(u.ux, 1, sx), d(u.ux, nx, sy), d(u.ux, nx * ny, sz)],
      [d(u.uy, 1, sx), 1 + d(u.uy, nx, sy), d(u.uy, nx * ny, sz)],
      [d(u.uz, 1, sx), d(u.uz, nx, sy), 1 + d(u.uz, nx * ny, sz)],
    ];
    const det = J[0]![0]! * (J[1]![1]! * J[2]![2]! - J[1]![2]! * J[2]![1]!) - J[0]![1]! * (J[1]![0]! * J[2]![2]! - J[1]![2]! * J[2]![0]!) + J[0]![2]! * (J[1]![0]! * J[2]![1]! - J[1]![1]! * J[2]![0]!);
    min = Math.min(min, det);
  }
  return min;
}

test('compositive demons recovers a residual shift and keeps the map invertible', () => {
  const truth = centredAffine([1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0], [6, -6, 4]);
  const t = phantom(DIMS, SPACING);
  const q = phantom(DIMS, SPACING, truth);
  const f = registerDemons(clipNormalize(q.ct, -200, 1500), clipNormalize(t.ct, -200, 1500), IDENTITY34, { levels: [8, 4], iterations: [40, 30], update: 'compositive' });
  const crop = cropForTemplateMask(t.organ, t.ct, IDENTITY34, q.ct, 20)!;
  const dice = (w: ReturnType<typeof warpMask>): number => {
    let inter = 0;
    let a = 0;
    let b = 0;
    let idx = 0;
    const { lo, dims: d } = w.crop;
    for (let k = 0; k < d[2]; k++) for (let j = 0; j < d[1]; j++) for (let i = 0; i < d[0]; i++, idx++) {
      const m = w.prob[idx]! >= 128 ? 1 : 0;
      const g = q.organ[lo[0] + i + DIMS[0] * (lo[1] + j + DIMS[1] * (lo[2] + k))]!;
      inter += m & g;
      a += m;
      b += g;
    }
    return (2 * inter) / (a + b);
  };
  const before = dice(warpMask(t.organ, t.ct, IDENTITY34, undefined, q.ct, crop));
  const after = dice(warpMask(t.organ, t.ct, IDENTITY34, f, q.ct, crop));
  assert.ok(after > before + 0.1 && after > 0.8, `Dice ${before.toFixed(3)} -> ${after.toFixed(3)}`);
  assert.ok(minJacobian(f) > 0, `min Jacobian determinant ${minJacobian(f).toFixed(3)}`);
});
