import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRuns, encodeRuns, maskToWire, packRuns, unpackRuns, wireToMask } from '../../../electron/engine/review/rle.js';

test('run-length packing round-trips masks, including long runs and edges', () => {
  const n = 300_000;
  const mask = new Uint8Array(n);
  mask.fill(1, 0, 5);
  mask.fill(1, 200_000, 299_999);
  mask[150_000] = 1;
  const runs = encodeRuns(mask);
  assert.deepEqual(runs, [0, 5, 149_995, 1, 49_999, 99_999, 1]);
  assert.deepEqual(decodeRuns(runs, n, 't'), mask);
  assert.deepEqual(unpackRuns(packRuns([0, 127, 128, 16_384, 2 ** 40]), 't'), [0, 127, 128, 16_384, 2 ** 40]);
  assert.deepEqual(wireToMask(maskToWire(mask), n, 't'), mask);
  assert.deepEqual(wireToMask(maskToWire(new Uint8Array(7)), 7, 't'), new Uint8Array(7));
});

test('runs that do not fit the grid are refused with the place named', () => {
  assert.throws(() => decodeRuns([3, 4], 8, 'edit of X'), /edit of X: the runs cover 7 voxels, the grid has 8/);
  assert.throws(() => decodeRuns([3, 6], 8, 'edit of X'), /cover more than the 8 voxels/);
  assert.throws(() => decodeRuns([3, -1], 8, 'edit of X'), /run 1 is -1/);
  assert.throws(() => unpackRuns('gA==', 'edit of X'), /end inside a number/);
  assert.throws(() => unpackRuns('***', 'edit of X'), /not valid base64/);
});

test('the api accepts packed masks longer than a plain string field, and refuses what is not base64', async () => {
  const { API_METHODS } = await import('../../../electron/api-methods.js');
  const mask = new Uint8Array(512 * 512 * 20);
  for (let k = 0; k < 20; k++) for (let j = 100; j < 400; j++) mask.fill(1, 512 * (j + 512 * k) + 100, 512 * (j + 512 * k) + 300);
  const runs = maskToWire(mask);
  assert.ok(runs.length > 4096, `${runs.length} characters`);
  const req = API_METHODS.saveStructureEdit({ seriesUid: '1.2', templateSet: 'S', structure: 'X', runs, reviewer: 'R' });
  assert.equal(req.runs, runs);
  assert.throws(() => API_METHODS.saveStructureEdit({ seriesUid: '1.2', templateSet: 'S', structure: 'X', runs: 'not base64!', reviewer: 'R' }), /packed runs of a mask/);
});
