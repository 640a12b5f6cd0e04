import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downsample, sampleVoxel, smoothInPlace, type Image } from '../../../electron/engine/registration/image.js';
import { prng } from '../../../electron/engine/prng.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';

/** The definition: smooth every voxel (sigma half the factor), then sample the coarser grid trilinearly. */
function reference(img: Image, target: number): Float32Array {
  const factors = img.spacing.map((s) => Math.max(1, target / s)) as Vec3;
  const dims = img.dims.map((d, a) => Math.max(2, Math.round(d / factors[a]!))) as Vec3;
  const ratio = [0, 1, 2].map((a) => (img.dims[a]! * img.spacing[a]!) / dims[a]! / img.spacing[a]!) as Vec3;
  const shift = ratio.map((r) => (r - 1) / 2) as Vec3;
  const smoothed = new Float32Array(img.data);
  smoothInPlace(smoothed, img.dims, factors.map((f) => (f > 1.01 ? 0.5 * f : 0)) as Vec3);
  const out = new Float32Array(dims[0] * dims[1] * dims[2]);
  const src = { ...img, data: smoothed };
  let n = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++) out[n++] = sampleVoxel(src, shift[0] + i * ratio[0], shift[1] + j * ratio[1], shift[2] + k * ratio[2], 0);
    }
  }
  return out;
}

test('downsampling smooths only the voxels it samples, with exactly the values of smoothing them all', () => {
  const rand = prng(11);
  const cases: [Vec3, Vec3, number][] = [
    [[64, 60, 40], [3.9, 3.9, 2.5], 12], // the ranking level of an OpenKBP CT: every axis thinned
    [[64, 60, 40], [3.9, 3.9, 2.5], 5], // most voxels read in-plane
    [[50, 45, 6], [1, 1, 3], 2], // z kept as it is
    [[33, 17, 9], [0.8, 1.3, 2], 6],
    [[20, 20, 1], [1, 1, 3], 4], // a single slice
  ];
  for (const [dims, spacing, target] of cases) {
    const data = new Float32Array(dims[0] * dims[1] * dims[2]);
    for (let n = 0; n < data.length; n++) data[n] = rand();
    const img: Image = { dims, spacing, origin: [-10, 4, 7], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data };
    const before = data.slice();
    const out = downsample(img, target);
    assert.deepEqual(out.data, reference(img, target), `${dims.join('x')} at ${spacing.join('/')} mm to ${target} mm`);
    assert.deepEqual(img.data, before, 'the input is left alone');
  }
});

/** The definition of the separable smoothing: per axis, each voxel's taps summed in order (double), edge voxels replicated. */
function naiveSmooth(data: Float32Array, dims: Vec3, sigma: Vec3): Float32Array {
  const out = Float32Array.from(data);
  const strides = [1, dims[0], dims[0] * dims[1]];
  for (let axis = 0; axis < 3; axis++) {
    const s = sigma[axis]!;
    if (!(s > 0.05)) continue;
    const r = Math.max(1, Math.ceil(3 * s));
    const k = new Float32Array(2 * r + 1);
    let sum = 0;
    for (let x = -r; x <= r; x++) sum += (k[x + r] = Math.exp((-x * x) / (2 * s * s)));
    for (let n = 0; n < k.length; n++) k[n] = k[n]! / sum;
    const src = Float32Array.from(out);
    for (let q = 0; q < out.length; q++) {
      const x = Math.floor(q / strides[axis]!) % dims[axis]!;
      let acc = 0;
      for (let t = -r; t <= r; t++) acc += k[t + r]! * src[q + (Math.min(Math.max(x + t, 0), dims[axis]! - 1) - x) * strides[axis]!]!;
      out[q] = acc;
    }
  }
  return out;
}

test('separable smoothing gives exactly the per-voxel sums of its definition, on every axis and at the borders', () => {
  const rand = prng(5);
  const cases: [Vec3, Vec3][] = [
    [[23, 17, 11], [1, 1.5, 2.4]],
    [[40, 8, 30], [0, 1, 1.5]], // a kernel longer than the j axis: every voxel clamps
    [[9, 30, 1], [1.5, 0.5, 1]], // a single slice
    [[16, 16, 16], [1.2, 0, 0]],
  ];
  for (const [dims, sigma] of cases) {
    const data = new Float32Array(dims[0] * dims[1] * dims[2]);
    for (let n = 0; n < data.length; n++) data[n] = rand() * 1000 - 200;
    const expected = naiveSmooth(data, dims, sigma);
    smoothInPlace(data, dims, sigma);
    assert.deepEqual(data, expected, `${dims.join('x')}, sigma ${sigma.join('/')}`);
  }
});
