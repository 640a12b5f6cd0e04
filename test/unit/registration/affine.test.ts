import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerAffine } from '../../../electron/engine/registration/affine.js';
import { clipNormalize, downsample } from '../../../electron/engine/registration/image.js';
import { applyMat34, centredAffine, composeMat34, eulerToMatrix, invertMat34 } from '../../../electron/engine/registration/transform.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import { phantom } from './phantom.js';

const DIMS: Vec3 = [48, 44, 40];
const SPACING: Vec3 = [4, 4, 5];

function maxDisplacementError(a: number[], b: number[]): number {
  let worst = 0;
  for (const x of [-60, 60]) for (const y of [-50, 50]) for (const z of [-70, 70]) {
    const p: Vec3 = [x, y, z];
    const u = applyMat34(a, p);
    const v = applyMat34(b, p);
    worst = Math.max(worst, Math.hypot(u[0] - v[0], u[1] - v[1], u[2] - v[2]));
  }
  return worst;
}

test('inverse and composition of 3x4 affines give the identity', () => {
  const m = centredAffine(eulerToMatrix(0.1, -0.2, 0.3).map((v, n) => v * (n % 4 === 0 ? 1.1 : 1)), [10, -5, 3], [4, 5, -6]);
  const id = composeMat34(m, invertMat34(m));
  const p: Vec3 = [12, -40, 77];
  const q = applyMat34(id, p);
  for (let a = 0; a < 3; a++) assert.ok(Math.abs(q[a]! - p[a]!) < 1e-9);
});

test('downsampling keeps the physical extent of the grid', () => {
  const { ct } = phantom(DIMS, SPACING);
  const img = clipNormalize(ct, -200, 1500);
  const d = downsample(img, 8);
  for (let a = 0; a < 3; a++) {
    const before = DIMS[a]! * SPACING[a]!;
    const after = d.dims[a]! * d.spacing[a]!;
    assert.ok(Math.abs(before - after) < 1e-6, `axis ${a}: ${before} vs ${after}`);
    // The grid stays centred: the first voxel centre moves inward by half the spacing change.
    const expect = ct.origin[a]! + (d.spacing[a]! - SPACING[a]!) / 2;
    assert.ok(Math.abs(d.origin[a]! - expect) < 1e-6);
  }
});

test('rigid then affine registration recovers a known transform of the phantom', () => {
  // query(x) = template(T(x)): T is what registration must find (query LPS -> template LPS).
  const truth = centredAffine(eulerToMatrix(0.08, -0.05, 0.06), [0, 0, 0], [9, -12, 14]);
  const template = phantom(DIMS, SPACING).ct;
  const query = phantom(DIMS, SPACING, truth).ct;
  const r = registerAffine(clipNormalize(query, -200, 1500), clipNormalize(template, -200, 1500), { levels: [12, 8, 4] });
  const err = maxDisplacementError(r.matrix, truth);
  const identityErr = maxDisplacementError([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], truth);
  assert.ok(identityErr > 20, 'the test transform is not trivial');
  assert.ok(err < 4, `corner displacement error ${err.toFixed(2)} mm (identity: ${identityErr.toFixed(1)} mm)`);
  assert.ok(r.ncc > 0.9, `ncc ${r.ncc}`);
});

test('a local registration restricted to a region starts from and improves a given transform', () => {
  const truth = centredAffine(eulerToMatrix(0, 0, 0), [0, 0, 0], [6, -4, 5]);
  const template = phantom(DIMS, SPACING).ct;
  const query = phantom(DIMS, SPACING, truth).ct;
  const q = clipNormalize(query, -200, 1500);
  const t = clipNormalize(template, -200, 1500);
  const init = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
  const r = registerAffine(q, t, { init, region: { min: [-40, -40, -50], max: [40, 40, 40] }, levels: [8, 4] });
  assert.ok(maxDisplacementError(r.matrix, truth) < maxDisplacementError(init, truth) / 2);
});
