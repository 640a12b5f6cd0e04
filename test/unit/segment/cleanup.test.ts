import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cleanupMask,
  connectedComponents,
  fillHolesPerSlice,
  keepLargestComponents,
  keepLongestSliceRun,
  ruleFor,
} from '../../../electron/engine/segment/cleanup.js';

const dims: [number, number, number] = [8, 8, 6];
const at = (i: number, j: number, k: number): number => i + 8 * (j + 8 * k);

function cube(m: Uint8Array, i0: number, i1: number, j0: number, j1: number, k0: number, k1: number): void {
  for (let k = k0; k <= k1; k++) for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) m[at(i, j, k)] = 1;
}

test('connected components are 6-connected (a diagonal neighbour is separate)', () => {
  const m = new Uint8Array(8 * 8 * 6);
  m[at(1, 1, 1)] = 1;
  m[at(2, 2, 1)] = 1;
  m[at(1, 1, 2)] = 1;
  const { sizes } = connectedComponents(m, dims);
  assert.deepEqual(sizes.slice(1).sort(), [1, 2]);
});

test('keepLargestComponents keeps the N largest', () => {
  const m = new Uint8Array(8 * 8 * 6);
  cube(m, 0, 2, 0, 2, 0, 2); // 27
  cube(m, 5, 6, 5, 6, 4, 5); // 8
  m[at(7, 0, 5)] = 1; // 1
  const two = m.slice();
  keepLargestComponents(m, dims, 1);
  assert.equal(m.reduce((a, b) => a + b, 0), 27);
  keepLargestComponents(two, dims, 2);
  assert.equal(two.reduce((a, b) => a + b, 0), 35);
});

test('fillHolesPerSlice fills enclosed background only', () => {
  const m = new Uint8Array(8 * 8 * 6);
  cube(m, 1, 5, 1, 5, 2, 2);
  m[at(3, 3, 2)] = 0; // enclosed hole
  cube(m, 0, 1, 6, 7, 3, 3);
  fillHolesPerSlice(m, dims);
  assert.equal(m[at(3, 3, 2)], 1);
  assert.equal(m[at(7, 7, 2)], 0);
  assert.equal(m[at(2, 7, 3)], 0, 'background touching the border stays empty');
});

test('keepLongestSliceRun drops slices separated by a gap', () => {
  const m = new Uint8Array(8 * 8 * 6);
  cube(m, 2, 3, 2, 3, 0, 0);
  cube(m, 2, 3, 2, 3, 2, 4);
  keepLongestSliceRun(m, dims);
  assert.equal(m[at(2, 2, 0)], 0);
  assert.equal(m[at(2, 2, 3)], 1);
});

test('rules: defaults, paired organs and overrides (case-insensitive)', () => {
  assert.deepEqual(ruleFor('Mandible'), { components: 1, fillHoles: true, continuity: true });
  assert.equal(ruleFor('Lungs').components, 2);
  assert.equal(ruleFor('mandible', { Mandible: { fillHoles: false } }).fillHoles, false);
  const m = new Uint8Array(8 * 8 * 6);
  cube(m, 0, 3, 0, 3, 1, 3);
  m[at(1, 1, 2)] = 0;
  m[at(7, 7, 5)] = 1;
  assert.equal(cleanupMask(m, dims, ruleFor('x')), 48);
});
