import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalMap, canonicalToPatient, canonicalToSource, sourceToCanonical, toCanonical } from '../../../electron/engine/volume/reorient.js';
import type { Mat3, Vec3 } from '../../../electron/engine/volume/geometry.js';

function vol(direction: Mat3, dims: Vec3 = [2, 3, 4]) {
  const data = Float32Array.from({ length: dims[0] * dims[1] * dims[2] }, (_, i) => i);
  return { dims, spacing: [1, 2, 3] as Vec3, origin: [0, 0, 0] as Vec3, direction, data };
}

test('an LPI volume (NIfTI LPI) maps to [S, A, L] as z=(nk-1)-k, y=(nj-1)-j, x=i (parity Q1)', () => {
  const v = vol([1, 0, 0, 0, 1, 0, 0, 0, -1]);
  const m = canonicalMap(v);
  assert.deepEqual(m.source, [2, 1, 0]);
  assert.deepEqual(m.flip, [true, true, false]);
  assert.deepEqual(m.shape, [4, 3, 2]);
  assert.deepEqual(m.spacing, [3, 2, 1]);
  assert.deepEqual(canonicalToSource(m, [0, 0, 1]), [1, 2, 3]);
  const c = toCanonical(v, m);
  // canonical [0,0,0] = source (0, 2, 3)
  assert.equal(c[0], 0 + 2 * 2 + 3 * 6);
});

test('every canonical axis grows toward S, A and L whatever the source layout', () => {
  // A sagittal-like layout: i along -y (anterior), j along +z (superior), k along +x (left).
  const v = vol([0, 0, 1, -1, 0, 0, 0, 1, 0]);
  const m = canonicalMap(v);
  const o = canonicalToPatient(v, m, [0, 0, 0]);
  const s = canonicalToPatient(v, m, [1, 0, 0]);
  const a = canonicalToPatient(v, m, [0, 1, 0]);
  const l = canonicalToPatient(v, m, [0, 0, 1]);
  assert.ok(s[2] > o[2], 'axis 0 toward superior (+z)');
  assert.ok(a[1] < o[1], 'axis 1 toward anterior (-y)');
  assert.ok(l[0] > o[0], 'axis 2 toward left (+x)');
  for (const p of [[0, 1, 2], [3, 1, 0]] as Vec3[]) assert.deepEqual(sourceToCanonical(m, canonicalToSource(m, p)), p);
});
