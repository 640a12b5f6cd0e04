import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/data.js';
import { MedlamNet, normaliseChannels } from '../../../electron/engine/localize/medlam-net.js';
import { readManifest } from '../../../electron/engine/models/manifest.js';

test('the slab-arranged correlation equals a zero-padded (k/2) 3-D cross-correlation with one output', async () => {
  const net = await MedlamNet.open(readManifest(join(REPO_ROOT, 'test', 'fixtures', 'models', 'medlam-tiny')));
  for (const k of [2, 4, 8]) {
    const C = 3;
    const S = 9;
    const x = Float32Array.from({ length: C * S ** 3 }, (_, i) => Math.sin(i * 0.37));
    const w = Float32Array.from({ length: C * k ** 3 }, (_, i) => Math.cos(i * 0.11));
    const got = await net.correlate(x, C, S, w, k);
    const So = S + 1;
    const p = k / 2;
    assert.equal(got.length, So ** 3);
    let worst = 0;
    for (let oz = 0; oz < So; oz++) {
      for (let oy = 0; oy < So; oy++) {
        for (let ox = 0; ox < So; ox++) {
          let v = 0;
          for (let c = 0; c < C; c++) {
            for (let a = 0; a < k; a++) {
              for (let b = 0; b < k; b++) {
                for (let e = 0; e < k; e++) {
                  const z = oz + a - p;
                  const y = oy + b - p;
                  const xx = ox + e - p;
                  if (z < 0 || y < 0 || xx < 0 || z >= S || y >= S || xx >= S) continue;
                  v += w[((c * k + a) * k + b) * k + e]! * x[((c * S + z) * S + y) * S + xx]!;
                }
              }
            }
          }
          worst = Math.max(worst, Math.abs(v - got[(oz * So + oy) * So + ox]!));
        }
      }
    }
    assert.ok(worst < 1e-4, `k ${k}: max |diff| ${worst}`);
  }
});

test('channel normalisation gives unit vectors and leaves zero vectors at zero (F.normalize, eps 1e-12)', () => {
  const m = Float32Array.from([3, 0, 4, 0]); // 2 channels x 2 voxels: (3,4) and (0,0)
  normaliseChannels(m, 2, 2);
  assert.ok(Math.abs(m[0]! - 0.6) < 1e-7 && Math.abs(m[2]! - 0.8) < 1e-7);
  assert.equal(m[1], 0);
  assert.equal(m[3], 0);
});
