import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockMatchPoint } from '../../../electron/engine/registration/block-match.js';
import { registerDemons } from '../../../electron/engine/registration/demons.js';
import { clipNormalize } from '../../../electron/engine/registration/image.js';
import { centredAffine, IDENTITY34 } from '../../../electron/engine/registration/transform.js';
import { cropForTemplateMask, mapPointToQuery, warpMask } from '../../../electron/engine/registration/warp.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import { phantom } from './phantom.js';

const DIMS: Vec3 = [40, 36, 36];
const SPACING: Vec3 = [4, 4, 4];

function dice(a: Uint8Array, b: Uint8Array): number {
  let x = 0;
  let y = 0;
  let i = 0;
  for (let n = 0; n < a.length; n++) {
    x += a[n]!;
    y += b[n]!;
    i += a[n]! & b[n]!;
  }
  return (2 * i) / (x + y);
}

function fullMask(w: ReturnType<typeof warpMask>, dims: Vec3): Uint8Array {
  const out = new Uint8Array(dims[0] * dims[1] * dims[2]);
  const { lo, dims: d } = w.crop;
  let idx = 0;
  for (let k = 0; k < d[2]; k++) for (let j = 0; j < d[1]; j++) for (let i = 0; i < d[0]; i++, idx++) {
    if (w.prob[idx]! >= 128) out[lo[0] + i + dims[0] * (lo[1] + j + dims[1] * (lo[2] + k))] = 1;
  }
  return out;
}

test('demons recovers a residual shift that the affine missed and improves the propagated mask', () => {
  // The query is the template shifted by 6 mm; registration starts from the identity.
  const truth = centredAffine([1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0], [6, -6, 4]);
  const t = phantom(DIMS, SPACING);
  const q = phantom(DIMS, SPACING, truth);
  const field = registerDemons(clipNormalize(q.ct, -200, 1500), clipNormalize(t.ct, -200, 1500), IDENTITY34, { levels: [8, 4], iterations: [40, 30] });
  const crop = cropForTemplateMask(t.organ, t.ct, IDENTITY34, q.ct, 20)!;
  const before = dice(fullMask(warpMask(t.organ, t.ct, IDENTITY34, undefined, q.ct, crop), DIMS), q.organ);
  const after = dice(fullMask(warpMask(t.organ, t.ct, IDENTITY34, field, q.ct, crop), DIMS), q.organ);
  assert.ok(after > before + 0.1, `Dice ${before.toFixed(3)} -> ${after.toFixed(3)}`);
  assert.ok(after > 0.8, `Dice after demons ${after.toFixed(3)}`);
});

test('points pushed through affine + field land where the template point is seen in the query', () => {
  const truth = centredAffine([1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0], [6, -6, 4]);
  const t = phantom(DIMS, SPACING);
  const q = phantom(DIMS, SPACING, truth);
  const field = registerDemons(clipNormalize(q.ct, -200, 1500), clipNormalize(t.ct, -200, 1500), IDENTITY34, { levels: [8, 4], iterations: [40, 30] });
  // A bone edge point of the template; in the query it sits at p - shift.
  const p: Vec3 = [-25 + 12, 10, 10];
  const expected: Vec3 = [p[0] - 6, p[1] + 6, p[2] - 4];
  const got = mapPointToQuery(p, IDENTITY34, field);
  const before = Math.hypot(p[0] - expected[0], p[1] - expected[1], p[2] - expected[2]);
  const after = Math.hypot(got[0] - expected[0], got[1] - expected[1], got[2] - expected[2]);
  assert.ok(after < before / 2, `point error ${before.toFixed(1)} -> ${after.toFixed(1)} mm`);
});

test('block matching moves a point onto the matching neighbourhood', () => {
  const truth = centredAffine([1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0], [8, 0, -8]);
  const t = phantom(DIMS, SPACING);
  const q = phantom(DIMS, SPACING, truth);
  const templatePoint: Vec3 = [-25 + 12, 10, 10];
  const start = templatePoint; // identity registration: the point has not moved
  const expected: Vec3 = [templatePoint[0] - 8, templatePoint[1], templatePoint[2] + 8];
  const got = blockMatchPoint(clipNormalize(q.ct, -200, 1500), clipNormalize(t.ct, -200, 1500), IDENTITY34, start, templatePoint, 12, 12);
  const err = Math.hypot(got[0] - expected[0], got[1] - expected[1], got[2] - expected[2]);
  assert.ok(err <= 4.5, `block-matched point ${got.map((v) => v.toFixed(1)).join(',')} vs ${expected.join(',')}`);
});
