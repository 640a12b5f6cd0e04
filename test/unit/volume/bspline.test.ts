import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cubicWeights, mirrorIndex, prefilter } from '../../../electron/engine/volume/bspline.js';
import { linearPlan, roundHalfEven, trilinearTorch, zoomCubic, zoomShape } from '../../../electron/engine/volume/resample.js';

test('cubic weights are a partition of unity and interpolate prefiltered samples exactly', () => {
  for (const x of [0, 0.25, 0.5, 0.9]) {
    const w = cubicWeights(x);
    assert.ok(Math.abs(w[0]! + w[1]! + w[2]! + w[3]! - 1) < 1e-15);
  }
  const n = 9;
  const data = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 1.3) * 100);
  const c = Float64Array.from(data);
  prefilter(c, [n]);
  for (let i = 0; i < n; i++) {
    const w = cubicWeights(i);
    let v = 0;
    for (let t = 0; t < 4; t++) v += w[t]! * c[mirrorIndex(i - 1 + t, n)]!;
    assert.ok(Math.abs(v - data[i]!) < 1e-9, `sample ${i}: ${v} vs ${data[i]}`);
  }
});

test('mirror extension reflects about the edge samples without repeating them', () => {
  assert.deepEqual([-2, -1, 0, 4, 5, 6].map((i) => mirrorIndex(i, 5)), [2, 1, 0, 4, 3, 2]);
  assert.equal(mirrorIndex(3, 1), 0);
});

test('zoomShape rounds half to even like Python', () => {
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(roundHalfEven(-0.5), -0);
  assert.deepEqual(zoomShape([128, 128, 128], [2.5 / 3, 4.234000205993652 / 3, 4.234000205993652 / 3]), [107, 181, 181]);
});

test('zoomCubic at zoom 1 is the identity and keeps constants', () => {
  const shape: [number, number, number] = [4, 5, 6];
  const d = Float64Array.from({ length: 120 }, (_, i) => (i * 37) % 11);
  const id = zoomCubic(d, shape, shape);
  for (let i = 0; i < d.length; i++) assert.ok(Math.abs(id[i]! - d[i]!) < 1e-9);
  const k = zoomCubic(new Float64Array(120).fill(-700), shape, [7, 3, 9]);
  for (const v of k) assert.ok(Math.abs(v + 700) < 1e-9);
});

// Expected values from scipy 1.10.1: ndimage.zoom(np.arange(5.)**2, 7/5, order=3) (mode 'constant',
// grid_mode False), an independent implementation.
test('zoomCubic matches scipy.ndimage.zoom on a 1-D profile (as a 1x1xN volume)', () => {
  const d = Float64Array.from([0, 1, 4, 9, 16]);
  const out = zoomCubic(d, [1, 1, 5], [1, 1, 7]);
  const scipy = [3.3306690738754696e-16, 0.4232804232804238, 1.8412698412698416, 4.000000000000002, 6.751322751322752, 12.02116402116402, 16.0];
  out.forEach((v, i) => assert.ok(Math.abs(v - scipy[i]!) < 1e-9, `sample ${i}: ${v} vs ${scipy[i]}`));
});

test('the last plane becomes cval when its float64 position rounds past the input (scipy constant mode, parity Q2b)', () => {
  // 128 -> 181 samples: (n_out - 1) * ((n_in - 1) / (n_out - 1)) > n_in - 1 in float64.
  const nIn = 128;
  const nOut = 181;
  assert.ok((nOut - 1) * ((nIn - 1) / (nOut - 1)) > nIn - 1);
  const out = zoomCubic(new Float64Array(nIn).fill(5), [1, 1, nIn], [1, 1, nOut], -1);
  assert.equal(out[nOut - 1], -1);
  assert.ok(Math.abs(out[nOut - 2]! - 5) < 1e-9);
});

test('trilinearTorch follows align_corners=False with a clamped start and reproduces constants', () => {
  const p = linearPlan(4, 8, 0.5);
  assert.equal(p.i0[0], 0);
  assert.equal(p.l1[0], 0); // (0 + 0.5) * 0.5 - 0.5 < 0 clamps to 0
  assert.equal(p.i1[7], 3); // the last sample has no right neighbour
  const src = new Float32Array(27).fill(2);
  const out = trilinearTorch(src, [3, 3, 3], [5, 4, 6]);
  for (const v of out) assert.equal(v, 2);
});
