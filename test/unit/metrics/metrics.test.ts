import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateStructure } from '../../../electron/engine/metrics/evaluate.js';
import { boxIou, maskBoxLps, wallDistanceMm, enclosingBox } from '../../../electron/engine/metrics/boxes.js';
import { percentile, surfaceDistances } from '../../../electron/engine/metrics/surface-distance.js';
import { voxelToPatient, type Mat3, type Vec3 } from '../../../electron/engine/volume/geometry.js';
import { boxMask, bruteDistances, bruteSurface, grid, randomBlob, rng, shifted, sphereMask } from './helpers.js';

const close = (a: number | null, b: number, tol = 1e-9, what = ''): void => {
  assert.ok(a !== null && Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
};

test('shifted cubes: Dice analytic, HD95 = Hausdorff = shift in mm, along each axis with anisotropic spacing', () => {
  const dims: Vec3 = [30, 30, 30];
  const spacing: Vec3 = [0.8, 1.2, 3];
  const g = grid(dims, spacing);
  const n = 10;
  const ref = boxMask(dims, [5, 5, 5], [5 + n - 1, 5 + n - 1, 5 + n - 1]);
  for (let axis = 0; axis < 3; axis++) {
    for (const s of [1, 2, 4]) {
      const by: Vec3 = [0, 0, 0];
      by[axis] = s;
      const m = evaluateStructure('cube', ref, { mask: shifted(ref, dims, by) }, g);
      close(m.dice, (n - s) / n, 1e-12, `dice axis ${axis} shift ${s}`);
      close(m.hd95Mm, s * spacing[axis]!, 1e-9, `hd95 axis ${axis} shift ${s}`);
      close(m.hausdorffMm, s * spacing[axis]!, 1e-9, `hausdorff axis ${axis} shift ${s}`);
      close(m.volumeDiffCc, 0, 1e-12, 'volume difference of a shifted cube');
      assert.equal(m.status, 'ok');
      // Boxes (voxel centres): side L = (n-1)*spacing, shifted by d along one axis.
      const L = (n - 1) * spacing[axis]!;
      const d = s * spacing[axis]!;
      close(m.boxIou, (L - d) / (L + d), 1e-9, `box IoU axis ${axis} shift ${s}`);
      close(m.wallDistanceMm, (2 * d) / 6, 1e-9, `wall distance axis ${axis} shift ${s}`);
    }
  }
});

test('identical masks: Dice 1, HD95 0, surface Dice 1, box IoU 1, wall distance 0', () => {
  const dims: Vec3 = [20, 18, 9];
  const g = grid(dims, [0.977, 0.977, 3]);
  const ref = randomBlob(dims, g.spacing, rng(3));
  const m = evaluateStructure('blob', ref, { mask: ref.slice() }, g);
  assert.deepEqual(
    [m.dice, m.hd95Mm, m.surfaceDice2mm, m.boxIou, m.wallDistanceMm, m.volumeDiffCc, m.hausdorffMm, m.assdMm],
    [1, 0, 1, 1, 0, 0, 0, 0],
  );
});

test('concentric spheres: Dice from the voxel counts, HD95 within a voxel of the radius difference', () => {
  const dims: Vec3 = [41, 41, 41];
  const spacing: Vec3 = [1, 1, 1];
  const g = grid(dims, spacing);
  const inner = sphereMask(dims, spacing, [20, 20, 20], 10);
  const outer = sphereMask(dims, spacing, [20, 20, 20], 14);
  const count = (m: Uint8Array): number => m.reduce((s, v) => s + v, 0);
  const m = evaluateStructure('sphere', outer, { mask: inner }, g);
  // Nested, so the intersection is the inner sphere.
  close(m.dice, (2 * count(inner)) / (count(inner) + count(outer)), 1e-12, 'dice');
  assert.ok(Math.abs(m.hd95Mm! - 4) <= 1, `hd95 ${m.hd95Mm} not within 1 mm of 4`);
  // Continuous volume 4/3 pi r^3 within 3 % of the voxel count.
  const analyticCc = ((4 / 3) * Math.PI * (14 ** 3 - 10 ** 3)) / 1000;
  assert.ok(Math.abs(-m.volumeDiffCc! - analyticCc) / analyticCc < 0.03, `volume difference ${m.volumeDiffCc} vs ${-analyticCc}`);
  // 4 mm apart: nothing within 2 mm except where voxelisation brings surfaces closer.
  assert.ok(m.surfaceDice2mm! < 0.2, `surface Dice at 2 mm ${m.surfaceDice2mm}`);
  // A sphere shifted by 1 mm lies within 2 mm everywhere.
  const moved = sphereMask(dims, spacing, [21, 20, 20], 10);
  close(evaluateStructure('sphere', inner, { mask: moved }, g).surfaceDice2mm, 1, 0, 'surface Dice of a 1 mm shift');
});

test('surface distances equal brute force on random blobs with anisotropic spacing', () => {
  const rand = rng(11);
  for (const spacing of [[0.977, 0.977, 3], [2.5, 0.6, 1.7]] as Vec3[]) {
    const dims: Vec3 = [16, 14, 10];
    const a = randomBlob(dims, spacing, rand);
    const b = randomBlob(dims, spacing, rand);
    const d = surfaceDistances(a, b, dims, spacing);
    const sa = bruteSurface(a, dims);
    const sb = bruteSurface(b, dims);
    const ab = bruteDistances(sa, sb, spacing);
    const ba = bruteDistances(sb, sa, spacing);
    assert.equal(d.aToB.length, ab.length);
    assert.equal(d.bToA.length, ba.length);
    ab.forEach((v, i) => close(d.aToB[i]!, v, 1e-9, `a->b ${i}`));
    ba.forEach((v, i) => close(d.bToA[i]!, v, 1e-9, `b->a ${i}`));
    const pooled = Float64Array.from([...ab, ...ba]);
    const m = evaluateStructure('blob', a, { mask: b }, grid(dims, spacing));
    close(m.hd95Mm, percentile(pooled, 95), 1e-12, 'hd95');
    close(m.surfaceDice2mm, pooled.filter((v) => v <= 2 + 1e-9).length / pooled.length, 1e-12, 'surface Dice');
  }
});

test('percentile matches numpy linear interpolation', () => {
  // numpy.percentile([1, 2, 3, 4, 10], 95) = 4 + 0.8 * 6 = 8.8
  close(percentile(Float64Array.from([10, 1, 3, 2, 4]), 95), 8.8, 1e-12, 'p95');
  close(percentile(Float64Array.from([5]), 95), 5, 0, 'single value');
});

test('empty structures score the documented values', () => {
  const dims: Vec3 = [10, 10, 10];
  const g = grid(dims, [1, 1, 2]);
  const empty = new Uint8Array(1000);
  const cube = boxMask(dims, [2, 2, 2], [5, 5, 5]);
  const both = evaluateStructure('x', empty, { mask: empty }, g);
  assert.equal(both.status, 'both-empty');
  assert.deepEqual([both.dice, both.hd95Mm, both.surfaceDice2mm, both.boxIou, both.wallDistanceMm, both.volumeDiffCc], [1, 0, 1, null, null, 0]);
  const missed = evaluateStructure('x', cube, { mask: empty }, g);
  assert.equal(missed.status, 'prediction-empty');
  assert.deepEqual([missed.dice, missed.hd95Mm, missed.surfaceDice2mm, missed.boxIou, missed.wallDistanceMm], [0, null, 0, 0, null]);
  close(missed.volumeDiffCc, -(64 * 2) / 1000, 1e-12, 'volume difference of a miss');
  const spurious = evaluateStructure('x', empty, { mask: cube }, g);
  assert.equal(spurious.status, 'reference-empty');
  assert.deepEqual([spurious.dice, spurious.hd95Mm, spurious.surfaceDice2mm, spurious.boxIou, spurious.wallDistanceMm], [0, null, 0, 0, null]);
  // Boxes without a mask: box metrics only.
  const boxOnly = evaluateStructure('x', cube, { boxes: [{ min: [2, 2, 4], max: [5, 5, 10] }] }, g);
  assert.equal(boxOnly.status, 'boxes-only');
  assert.deepEqual([boxOnly.dice, boxOnly.hd95Mm, boxOnly.boxIou, boxOnly.wallDistanceMm], [null, null, 1, 0]);
});

test('stored boxes win over the mask box; an SPL stack is scored by its enclosing box', () => {
  const dims: Vec3 = [12, 12, 12];
  const g = grid(dims, [1, 1, 1], [-5, -5, -5]);
  const ref = boxMask(dims, [2, 2, 2], [7, 7, 9]);
  const stack = [
    { min: [-3, -3, -3] as Vec3, max: [2, 2, 1] as Vec3 },
    { min: [-3, -3, 1] as Vec3, max: [2, 2, 3] as Vec3 },
  ];
  const m = evaluateStructure('x', ref, { mask: ref, boxes: stack }, g);
  close(m.boxIou, (5 * 5 * 6) / (5 * 5 * 7), 1e-12, 'IoU of the stack, 1 mm short at the top');
  close(m.wallDistanceMm, 1 / 6, 1e-12, 'wall distance of the stack');
  assert.deepEqual(enclosingBox(stack), { min: [-3, -3, -3], max: [2, 2, 3] });
  assert.equal(m.dice, 1);
});

test('box conventions: voxel edges add half a voxel per face; one-slice organs', () => {
  const dims: Vec3 = [10, 10, 10];
  const g = grid(dims, [1, 1, 3]);
  const slab = boxMask(dims, [2, 2, 4], [5, 5, 4]);
  assert.deepEqual(maskBoxLps(slab, g, 'centres'), { min: [2, 2, 12], max: [5, 5, 12] });
  assert.deepEqual(maskBoxLps(slab, g, 'edges'), { min: [1.5, 1.5, 10.5], max: [5.5, 5.5, 13.5] });
  // Zero-volume boxes: IoU 1 when they coincide, 0 otherwise (the reference gives NaN).
  const flat = maskBoxLps(slab, g, 'centres')!;
  assert.equal(boxIou(flat, flat), 1);
  assert.equal(boxIou(flat, { min: [2, 2, 15], max: [5, 5, 15] }), 0);
  close(wallDistanceMm(flat, { min: [2, 2, 15], max: [5, 5, 15] }), 1, 1e-12, 'wall distance of a one-slice shift');
  const m = evaluateStructure('x', slab, { mask: slab }, g, { boxConvention: 'edges' });
  assert.equal(m.boxIou, 1);
});

test('mask box in LPS is exact on an oblique, flipped grid', () => {
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  // Columns: i rotated in the x-y plane, j its perpendicular, k toward inferior (flipped).
  const direction: Mat3 = [c, -s, 0, s, c, 0, 0, 0, -1];
  const dims: Vec3 = [14, 12, 8];
  const g = grid(dims, [0.9, 1.1, 2.5], [10, -20, 30], direction);
  const mask = randomBlob(dims, g.spacing, rng(5));
  const got = maskBoxLps(mask, g, 'centres')!;
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        if (!mask[i + dims[0] * (j + dims[1] * k)]) continue;
        const p = voxelToPatient(g, [i, j, k]);
        for (let a = 0; a < 3; a++) {
          min[a] = Math.min(min[a]!, p[a]!);
          max[a] = Math.max(max[a]!, p[a]!);
        }
      }
  for (let a = 0; a < 3; a++) {
    close(got.min[a]!, min[a]!, 1e-9, `min ${a}`);
    close(got.max[a]!, max[a]!, 1e-9, `max ${a}`);
  }
});

test('masks touching the grid border: border voxels are surface, distances stay exact', () => {
  const dims: Vec3 = [8, 8, 6];
  const spacing: Vec3 = [1, 1.5, 2];
  const a = boxMask(dims, [0, 0, 0], [7, 7, 5]); // the whole grid
  const b = boxMask(dims, [0, 0, 0], [5, 7, 5]);
  const d = surfaceDistances(a, b, dims, spacing);
  const ab = bruteDistances(bruteSurface(a, dims), bruteSurface(b, dims), spacing);
  assert.equal(d.aToB.length, ab.length);
  ab.forEach((v, i) => close(d.aToB[i]!, v, 1e-9, `a->b ${i}`));
});

test('a predicted box with non-finite coordinates is refused, naming the structure', () => {
  const dims: Vec3 = [6, 6, 6];
  const cube = boxMask(dims, [1, 1, 1], [3, 3, 3]);
  assert.throws(
    () => evaluateStructure('Brainstem', cube, { boxes: [{ min: [NaN, 0, 0], max: [1, 1, 1] }] }, grid(dims)),
    /predicted box of Brainstem has non-finite coordinates/,
  );
});
