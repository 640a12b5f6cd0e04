import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskFromLowRes } from '../../../electron/engine/segment/postdecode.js';

test('a half-plane of positive logits maps to the same half of the slice', () => {
  const L = 256;
  const low = new Float32Array(L * L);
  for (let y = 0; y < L; y++) for (let x = 0; x < L; x++) low[y * L + x] = x < 128 ? 10 : -10;
  const out = new Uint8Array(128 * 128);
  const n = maskFromLowRes(low, L, 1024, 128, 128, out);
  assert.equal(n, 128 * 64);
  assert.equal(out[5 * 128 + 63], 1);
  assert.equal(out[5 * 128 + 64], 0);
});

test('samples pixel [8r, 8c] of the 1024 upsampling, not the block centre (quirk M8)', () => {
  // One positive low-res pixel at (0, 0): bilinear to 1024 covers [0, 2] fully, so output pixel (0, 0)
  // (which samples 1024-pixel 0) is foreground, and (1, 1) (1024-pixel 8, low-res 1.625) is not.
  const L = 256;
  const low = new Float32Array(L * L).fill(-20);
  low[0] = 20;
  const out = new Uint8Array(128 * 128);
  maskFromLowRes(low, L, 1024, 128, 128, out);
  assert.equal(out[0], 1);
  assert.equal(out[129], 0);
});

test('writes at an offset and ORs with what is there (several boxes on one slice)', () => {
  const L = 256;
  const low = new Float32Array(L * L).fill(-5);
  const out = new Uint8Array(2 * 4 * 4).fill(0);
  out[16] = 1;
  const n = maskFromLowRes(low, L, 1024, 4, 4, out, 16);
  assert.equal(n, 0);
  assert.equal(out[16], 1);
});

test('non-square slices sample rows and columns with their own scale', () => {
  const L = 256;
  const low = new Float32Array(L * L);
  for (let y = 0; y < L; y++) for (let x = 0; x < L; x++) low[y * L + x] = y < 64 ? 10 : -10;
  const out = new Uint8Array(8 * 16);
  maskFromLowRes(low, L, 1024, 8, 16, out);
  // rows: 8 rows over 1024 -> row r samples 128 r -> low-res 32 r; foreground while 32 r < 64
  assert.deepEqual(Array.from({ length: 8 }, (_, r) => out[r * 16]), [1, 1, 0, 0, 0, 0, 0, 0]);
});
