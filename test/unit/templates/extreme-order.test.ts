import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignExtremePoints, inconsistentSlots, validateSixPoints } from '../../../electron/engine/store/extreme-order.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';

/** Extreme points of an ellipsoid centred at c with semi-axes r (each is exactly extreme on one axis). */
function ellipsoid(c: Vec3, r: Vec3): Vec3[] {
  return [
    [c[0] - r[0], c[1], c[2]],
    [c[0] + r[0], c[1], c[2]],
    [c[0], c[1] - r[1], c[2]],
    [c[0], c[1] + r[1], c[2]],
    [c[0], c[1], c[2] - r[2]],
    [c[0], c[1], c[2] + r[2]],
  ];
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const a = [...xs];
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

test('free clicks on an organ are assigned to right, left, anterior, posterior, inferior, superior in any click order', () => {
  const truth = ellipsoid([12, -40, 300], [30, 5, 80]);
  for (let seed = 1; seed < 40; seed++) assert.deepEqual(assignExtremePoints(shuffle(truth, seed)), truth);
});

test('off-axis clicks (as placed by hand on slices) still land in the right slots', () => {
  // A flat organ: the anterior/posterior clicks are off-centre in x by more than their y spread.
  const truth: Vec3[] = [
    [-60, 2, 10],
    [58, -3, 12],
    [20, -9, 11],
    [-25, 8, 9],
    [4, 1, -5],
    [-3, 0, 27],
  ];
  assert.deepEqual(assignExtremePoints(shuffle(truth, 7)), truth);
  assert.deepEqual(inconsistentSlots(truth), []);
});

test('inconsistentSlots names a guided point that is not the extreme of its axis', () => {
  const pts = ellipsoid([0, 0, 0], [10, 10, 10]);
  const swapped = [pts[1]!, pts[0]!, ...pts.slice(2)];
  assert.deepEqual(inconsistentSlots(swapped), ['right', 'left']);
});

test('validateSixPoints rejects wrong counts and non-finite coordinates', () => {
  assert.throws(() => validateSixPoints([[0, 0, 0]]), /six/);
  assert.throws(() => validateSixPoints(Array(6).fill([0, 0, Number.NaN])), /finite/);
  assert.throws(() => validateSixPoints(Array(6).fill([0, 0])), /finite/);
});
