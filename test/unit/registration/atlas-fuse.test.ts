import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxFromPoints, confidenceOf, flagBox, lpsAxesOf, median, medianPoints } from '../../../electron/engine/localize/atlas/fuse.js';
import { fuseMasks } from '../../../electron/engine/segment/atlas/fuse-masks.js';
import { localNcc } from '../../../electron/engine/registration/local-ncc.js';
import { refineWithIntensity } from '../../../electron/engine/segment/atlas/intensity-refine.js';
import type { TemplateJobResult } from '../../../electron/engine/registration/template-job.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';

test('median of an even count averages the middle pair; point-wise median rejects one outlier template', () => {
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const a: Vec3[] = [[0, 0, 0], [10, 10, 10]];
  const b: Vec3[] = [[1, 1, 1], [11, 11, 11]];
  const outlier: Vec3[] = [[100, 100, 100], [-50, -50, -50]];
  assert.deepEqual(medianPoints([a, b, outlier]), [[1, 1, 1], [10, 10, 10]]);
});

test('box faces come from their designated points, a reversed pair swapped', () => {
  // An LPI-ordered template (k runs toward inferior): the k pair arrives as (max z, min z).
  const axes = lpsAxesOf([1, 0, 0, 0, 1, 0, 0, 0, -1]);
  assert.deepEqual(axes, [0, 1, 2]);
  const pts: Vec3[] = [
    [-10, 3, 5], [12, 4, 6], // i pair: x extent -10..12
    [0, -7, 1], [1, 9, 2], // j pair: y extent -7..9
    [2, 2, 30], [3, 1, -4], // k pair reversed: z extent -4..30
  ];
  const box = boxFromPoints(pts, axes);
  assert.deepEqual(box, { min: [-10, -7, -4], max: [12, 9, 30] });
  // A non-designated point beyond a face does not move it (MedLAM's rule, not the points' bounds).
  const moved = pts.map((p) => [...p] as Vec3);
  moved[2] = [40, -7, 1];
  assert.equal(boxFromPoints(moved, axes).max[0], 12);
});

test('flags: a box outside the volume is absent, one crossing a face is cut-off and clipped', () => {
  const extent = { min: [0, 0, 0] as Vec3, max: [100, 100, 100] as Vec3 };
  const inside = flagBox({ min: [10, 10, 10], max: [20, 20, 20] }, extent, 1, 0.9);
  assert.deepEqual(inside.flags, []);
  const cut = flagBox({ min: [90, 10, 10], max: [120, 20, 20] }, extent, 1, 0.9);
  assert.deepEqual(cut.flags, ['cut-off']);
  assert.equal(cut.box.max[0], 100);
  const out = flagBox({ min: [150, 10, 10], max: [160, 20, 20] }, extent, 1, 0.2);
  assert.deepEqual(out.flags, ['absent', 'low-confidence']);
});

test('confidence falls as the templates disagree', () => {
  const fused: Vec3[] = [[0, 0, 0]];
  const close = confidenceOf([0.8, 0.8], [[[1, 0, 0]], [[-1, 0, 0]]], fused);
  const far = confidenceOf([0.8, 0.8], [[[30, 0, 0]], [[-30, 0, 0]]], fused);
  assert.ok(close > far && close <= 0.8 && far > 0);
});

test('mask fusion is a vote: two of three templates put a voxel in, at threshold 0.5', () => {
  const volume = { dims: [4, 1, 3] as Vec3, spacing: [1, 1, 1] as Vec3, origin: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number], data: new Float32Array(12) };
  const crop = { lo: [0, 0, 1] as Vec3, dims: [4, 1, 1] as Vec3 };
  const res = (prob: number[]): TemplateJobResult => ({
    transforms: { global: [], globalNcc: 0, local: {} },
    structures: [{ name: 'X', points: [], ncc: 0.9, mask: { crop, prob: Uint8Array.from(prob) } }],
    ms: 0,
  });
  const fused = fuseMasks('X', volume, [res([255, 255, 0, 0]), res([255, 0, 255, 0]), res([255, 255, 0, 0])], 0.5);
  assert.deepEqual([...fused.mask], [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  assert.equal(fused.voxels, 2);
  assert.deepEqual(fused.flags, []);
  const none = fuseMasks('X', volume, [res([0, 0, 0, 0])], 0.5);
  assert.ok(none.flags.includes('absent'));
});

test('locally weighted fusion follows the templates whose warped CT matches the query there', () => {
  const volume = { dims: [4, 1, 1] as Vec3, spacing: [1, 1, 1] as Vec3, origin: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number], data: new Float32Array(4) };
  const crop = { lo: [0, 0, 0] as Vec3, dims: [4, 1, 1] as Vec3 };
  const res = (prob: number[], sim: number[]): TemplateJobResult => ({
    transforms: { global: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], globalNcc: 1, local: {} },
    structures: [{ name: 'X', points: [], ncc: 0.9, mask: { crop, prob: Uint8Array.from(prob), similarity: Uint8Array.from(sim) } }],
    ms: 0,
  });
  // Two templates say "in" at voxels 0-1, one says "in" at 2-3; the lone one matches the query far
  // better at 2-3 (lncc 1 against 0) and worse at 0-1.
  const a = res([255, 255, 0, 0], [255, 255, 128, 128]);
  const b = res([255, 255, 0, 0], [255, 255, 128, 128]);
  const c = res([0, 0, 255, 255], [128, 128, 255, 255]);
  assert.deepEqual([...fuseMasks('X', volume, [a, b, c], 0.5).mask], [1, 1, 0, 0]);
  assert.deepEqual([...fuseMasks('X', volume, [a, b, c], 0.5, 10).mask], [1, 1, 1, 1]);
});

test('local NCC is 1 for an affine copy of the image and -1 for its negative', () => {
  const dims: Vec3 = [8, 8, 8];
  const a = new Float32Array(512);
  for (let n = 0; n < a.length; n++) a[n] = Math.sin(n * 0.7) + (n % 8) * 0.1;
  const b = a.map((x) => 2 * x + 1);
  const c = a.map((x) => -x);
  const lb = localNcc(a, b, dims, [1.5, 1.5, 1.5]);
  const lc = localNcc(a, c, dims, [1.5, 1.5, 1.5]);
  assert.ok(Math.abs(lb[200]! - 1) < 1e-3, `lncc ${lb[200]}`);
  assert.ok(Math.abs(lc[200]! + 1) < 1e-3, `lncc ${lc[200]}`);
});

test('intensity refinement moves a prior that is 4 voxels off back onto the bone the query shows', () => {
  // A 200-voxel line of soft tissue (40 HU) with bone (1000 HU) at 40..59; the atlas prior is
  // shifted 4 voxels to 44..63 (0.6 there, 0.35 on the 4-voxel ramps either side, 0.05 elsewhere).
  const hu = new Float32Array(200).fill(40);
  for (let n = 40; n < 60; n++) hu[n] = 1000;
  const prior = new Float32Array(200).fill(0.05);
  for (let n = 40; n < 68; n++) prior[n] = n < 44 || n >= 64 ? 0.35 : 0.6;
  prior[0] = 0; // beyond every template's reach
  prior[199] = 1;
  const post = refineWithIntensity(Float32Array.from(prior), hu, { binHu: 10, smoothHu: 20 });
  const inside = [...post].flatMap((p, n) => (p >= 0.5 ? [n] : []));
  assert.deepEqual(inside, [...Array.from({ length: 20 }, (_, n) => 40 + n), 199]);
  assert.equal(post[0], 0, 'no template reached voxel 0: it stays out whatever its HU');
  assert.equal(post[199], 1, 'a certain prior stays certain');
  // The prior alone, at the same cut-off, keeps the 4-voxel shift.
  assert.deepEqual([...prior].flatMap((p, n) => (p >= 0.5 ? [n] : [])), [...Array.from({ length: 20 }, (_, n) => 44 + n), 199]);
  assert.throws(() => refineWithIntensity(prior, hu.subarray(1), { binHu: 10, smoothHu: 20 }), /200 prior voxels, 199 CT voxels/);
});
