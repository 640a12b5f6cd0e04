import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boxTo1024,
  clippedRange,
  encoderInput,
  MEDSAM_CONSTANTS,
  roundHalfEven,
  sliceImage,
  windowSlice,
} from '../../../electron/engine/segment/preprocess.js';
import { IDENTITY } from '../../../electron/engine/volume/geometry.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';

function vol(data: number[], dims: [number, number, number]): Volume {
  return { dims, spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY, data: Float32Array.from(data) };
}

test('clippedRange uses the clipped volume, not the window bounds', () => {
  assert.deepEqual(clippedRange(Float32Array.from([-100, 0, 300]), [-500, 1000]), { min: -100, max: 300 });
  assert.deepEqual(clippedRange(Float32Array.from([-2000, 0, 3000]), [-500, 1000]), { min: -500, max: 1000 });
  assert.throws(() => clippedRange(Float32Array.from([-900, -800]), [-500, 1000]), /constant/);
});

test('windowSlice scales by the volume range, zeroes raw 0 HU, truncates', () => {
  // 2x1x2: slice 0 = [-500, 0], slice 1 = [1000, 250]
  const v = vol([-500, 0, 1000, 250], [2, 1, 2]);
  const r = clippedRange(v.data, [-500, 1000]);
  assert.deepEqual(Array.from(windowSlice(v, 0, [-500, 1000], r)), [0, 0]); // 0 HU would be 85 without the rule
  assert.deepEqual(Array.from(windowSlice(v, 1, [-500, 1000], r)), [255, Math.trunc((750 / 1500) * 255)]);
});

test('sliceImage is 1024x1024 uint8 and keeps a constant interior', () => {
  const n = 8;
  const pre = new Int32Array(n * n).fill(77);
  pre[0] = 0; // with 0 inside the slice's range the zero padding shows at the border
  const img = sliceImage(pre, n, n, MEDSAM_CONSTANTS);
  assert.equal(img.length, 1024 * 1024);
  // The spline prefilter has infinite support: far from the dark pixel 77 - tiny, truncated to 76 or 77.
  assert.ok(img[900 * 1024 + 900]! >= 76);
  assert.ok(img[1023 * 1024 + 1023]! < 76, 'border darkens (zeros outside, quirk M4)');
});

test('encoderInput normalises each channel with SAM mean/std in float32', () => {
  const img = Uint8Array.from([0, 255]);
  const x = encoderInput(img, MEDSAM_CONSTANTS);
  assert.equal(x.length, 6);
  assert.equal(x[0], Math.fround(Math.fround(0 - Math.fround(123.675)) / Math.fround(58.395)));
  assert.equal(x[5], Math.fround(Math.fround(255 - Math.fround(103.53)) / Math.fround(57.375)));
});

test('roundHalfEven matches np.around', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -3.5].map((v) => roundHalfEven(v) + 0), [0, 2, 2, 0, -2, -2, 2, 3, -4]);
});

test('boxTo1024 scales with np.around then pads 10 px (quirk M6)', () => {
  // 128 columns: voxel 59 -> 472 - 10, voxel 82 -> 656 + 10
  assert.deepEqual(boxTo1024({ iMin: 59, jMin: 44, iMax: 82, jMax: 57 }, 128, 128, MEDSAM_CONSTANTS), [462, 342, 666, 466]);
  // non-square: 1024/100 = 10.24 per column, 1024/50 per row
  assert.deepEqual(boxTo1024({ iMin: 1, jMin: 1, iMax: 2, jMax: 2 }, 100, 50, MEDSAM_CONSTANTS), [0, 10, 30, 51]);
});
