/**
 * refineAll (localize/query.ts) computes the multi-scale similarity of every structure's rows with
 * one network forward per distinct crop centre. Guarded here: the answer for each row is exactly the
 * one it gets when computed alone (a one-row support, its own forward), and the forwards are the
 * distinct centres, not the rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/data.js';
import { MedlamLocalizer } from '../../../electron/engine/localize/medlam.js';
import { MemorySupportCache } from '../../../electron/engine/localize/support-cache.js';
import { preprocess } from '../../../electron/engine/localize/preprocess.js';
import { coarse, drawCropCentres, queryFc, refineAll } from '../../../electron/engine/localize/query.js';
import type { SupportFeatures } from '../../../electron/engine/localize/support.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';

const MODELS = join(REPO_ROOT, 'test', 'fixtures', 'models', 'medlam-tiny');

function phantom(shift: number): Volume {
  const dims: Vec3 = [40, 36, 24];
  const data = new Float32Array(dims[0] * dims[1] * dims[2]).fill(-1000);
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        const idx = i + dims[0] * (j + dims[1] * k);
        if ((i - 20) ** 2 / 300 + (j - 18) ** 2 / 220 < 1) data[idx] = 40;
        if ((i - 24 - shift) ** 2 / 16 + (j - 16) ** 2 / 9 + (k - 12) ** 2 / 25 < 1) data[idx] = 400;
      }
  return { dims, spacing: [3.5, 3.5, 4], origin: [-70, -60, -50], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data };
}

const at = (i: number, j: number, k: number): Vec3 => [-70 + i * 3.5, -60 + j * 3.5, -50 + k * 4];
const sixAround = (c: number, r: number): Vec3[] => [at(c - r, 16, 12), at(c + r, 16, 12), at(c, 16 - r, 12), at(c, 16 + r, 12), at(c, 16, 12 - r), at(c, 16, 12 + r)];

/** Row r of a support alone, as refine would see it with a one-row template. */
function oneRow(s: SupportFeatures, r: number): SupportFeatures {
  return {
    ...s,
    rows: 1,
    parts: 1,
    fc: s.fc.slice(r * 3, r * 3 + 3),
    kernels: s.kernels.map((k, sc) => {
      const per = s.channels * s.kernelSizes[sc]! ** 3;
      return k.slice(r * per, (r + 1) * per);
    }),
  };
}

test('rows sharing a crop centre share one forward, and every row gets exactly its solo answer', async () => {
  const loc = await MedlamLocalizer.fromModelsDir(MODELS, { cache: new MemorySupportCache() });
  const c = loc.constants;
  const tpl = phantom(0);
  const query = phantom(2);
  const member = (points: Vec3[]) => ({ seriesUid: 'tpl', points, loadVolume: () => Promise.resolve(tpl) });
  // A and B are the same organ (identical rows); C is a wider box around it.
  const structures = [
    { name: 'A', members: [member(sixAround(24, 3))] },
    { name: 'B', members: [member(sixAround(24, 3))] },
    { name: 'C', members: [member(sixAround(24, 5))] },
  ];
  const req = { seriesUid: 'q', query, templateSet: 'S', structures, mode: 'wpl' as const };
  const supports = [];
  for (const s of structures) supports.push(await loc.support(req, s));
  const pre = preprocess(query, c);
  const q = await queryFc(loc.network, pre, drawCropCentres(pre, c), c);
  const coarseVox = supports.map((s) => coarse(s, q, c).coarseVox);

  const net = loc.network;
  const features = net.features.bind(net);
  let forwards = 0;
  net.features = (p, size) => {
    forwards++;
    return features(p, size);
  };
  const ticks: number[] = [];
  const all = await refineAll(net, pre, supports, coarseVox, c, undefined, (i) => ticks.push(i));
  const distinct = new Set(all.flatMap((r) => r.centre.map((v) => v.join(',')))).size;
  assert.equal(forwards, distinct);
  assert.ok(distinct <= 12, `A and B share their ${distinct} centres`);
  assert.deepEqual([...ticks].sort(), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);

  forwards = 0;
  for (let i = 0; i < supports.length; i++) {
    for (let r = 0; r < supports[i]!.rows; r++) {
      const [solo] = await refineAll(net, pre, [oneRow(supports[i]!, r)], [[coarseVox[i]![r]!]], c);
      assert.deepEqual(solo!.centre[0], all[i]!.centre[r]);
      assert.deepEqual(solo!.offset[0], all[i]!.offset[r], `structure ${i} row ${r}`);
      assert.equal(solo!.maxSim[0], all[i]!.maxSim[r]);
      assert.equal(solo!.margin[0], all[i]!.margin[r]);
      assert.deepEqual(solo!.refinedUnpadded[0], all[i]!.refinedUnpadded[r]);
    }
  }
  assert.equal(forwards, 18, 'alone, every row costs its own forward');
});
