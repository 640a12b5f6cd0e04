import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelMapContours } from '../../../electron/engine/rtstruct/label-contours.js';
import { maskToContours } from '../../../electron/engine/contours/mask-to-contours.js';
import type { Geometry } from '../../../electron/engine/volume/geometry.js';

test('label map contours, one label at a time, equal the contours of each label mask', () => {
  const g: Geometry = { dims: [12, 10, 6], spacing: [1, 1.5, 2], origin: [5, -5, 10], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
  const labels = new Uint16Array(12 * 10 * 6);
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let p = 0; p < labels.length; p++) labels[p] = rnd() < 0.5 ? 0 : [3, 300, 9][Math.floor(rnd() * 3)]!;
  const names = new Map([[300, 'Big'], [3, 'Small'], [42, 'Absent'], [9, 'Nine']]);
  const got = labelMapContours(labels, names, g);
  assert.deepEqual(got.map((l) => l.name), ['Big', 'Small', 'Nine'], 'in names order, absent labels left out');
  for (const l of got) {
    const mask = Uint8Array.from(labels, (x) => (x === l.value ? 1 : 0));
    assert.equal(l.voxels, mask.reduce((a, b) => a + b, 0));
    assert.deepEqual(l.rings, maskToContours(mask, g).map((c) => c.points));
  }
});
