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
