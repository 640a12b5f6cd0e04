import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lowerEnvelope, squaredDistanceTransform } from '../../../electron/engine/metrics/edt.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import { rng } from './helpers.js';

function bruteSquared(features: Uint8Array, dims: Vec3, spacing: Vec3): Float64Array {
  const pts: Vec3[] = [];
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) if (features[i + dims[0] * (j + dims[1] * k)]) pts.push([i, j, k]);
  const out = new Float64Array(features.length).fill(Infinity);
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        let best = Infinity;
        for (const p of pts) {
          const d = ((i - p[0]) * spacing[0]) ** 2 + ((j - p[1]) * spacing[1]) ** 2 + ((k - p[2]) * spacing[2]) ** 2;
          if (d < best) best = d;
        }
        out[i + dims[0] * (j + dims[1] * k)] = best;
      }
  return out;
}

test('squared EDT equals brute force on random sparse features, anisotropic spacing', () => {
  const rand = rng(7);
  const cases: { dims: Vec3; spacing: Vec3; density: number }[] = [
    { dims: [9, 7, 5], spacing: [0.977, 0.977, 3], density: 0.02 },
    { dims: [6, 11, 8], spacing: [2.5, 0.7, 1.3], density: 0.05 },
    { dims: [1, 8, 9], spacing: [1, 1, 1], density: 0.1 },
    { dims: [12, 1, 1], spacing: [0.5, 4, 4], density: 0.15 },
  ];
  for (const c of cases) {
    const n = c.dims[0] * c.dims[1] * c.dims[2];
    const f = new Uint8Array(n);
    for (let p = 0; p < n; p++) if (rand() < c.density) f[p] = 1;
    f[Math.floor(rand() * n)] = 1; // at least one feature
    const got = squaredDistanceTransform(f, c.dims, c.spacing);
    const want = bruteSquared(f, c.dims, c.spacing);
    for (let p = 0; p < n; p++) {
      assert.ok(Math.abs(got[p]! - want[p]!) <= 1e-9 * Math.max(1, want[p]!), `dims ${c.dims} voxel ${p}: ${got[p]} vs ${want[p]}`);
    }
  }
});

test('squared EDT with no feature is Infinity everywhere', () => {
  const d = squaredDistanceTransform(new Uint8Array(24), [2, 3, 4], [1, 1, 1]);
  assert.ok(d.every((v) => v === Infinity));
});

test('1D lower envelope skips infinite samples and keeps finite offsets', () => {
  const f = new Float64Array([Infinity, 4, Infinity, Infinity, 0]);
  const out = new Float64Array(5);
  lowerEnvelope(f, 5, 2, out, new Int32Array(5), new Float64Array(6));
  // out[q] = min(((q-1)*2)^2 + 4, ((q-4)*2)^2)
  assert.deepEqual(Array.from(out), [8, 4, 8, 4, 0]);
});
