/**
 * Atlas selection (registration/select.ts): the similarity score ranks a template that matches the
 * query above one that does not, top-k keeps the best, and the backend registers deformably only
 * the selected templates and names them as the structure's provenance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAtlasBackend } from '../../../electron/engine/localize/atlas/index.js';
import { extremePointsFromLabels } from '../../../electron/engine/localize/extreme-points.js';
import { capTemplates, nccInRegion, topK } from '../../../electron/engine/registration/select.js';
import { clipNormalize } from '../../../electron/engine/registration/image.js';
import { centredAffine, eulerToMatrix, IDENTITY34 } from '../../../electron/engine/registration/transform.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';
import { phantom } from './phantom.js';

const DIMS: Vec3 = [40, 36, 36];
const SPACING: Vec3 = [4, 4, 4];
const query = phantom(DIMS, SPACING, centredAffine(eulerToMatrix(0.05, 0, 0), [0, 0, 0], [-6, 8, 5]));

/** A phantom whose organ neighbourhood is scrambled: it cannot match the query there. */
function scrambled(): Volume {
  const p = phantom(DIMS, SPACING);
  const data = Float32Array.from(p.ct.data);
  let s = 7;
  for (let n = 0; n < data.length; n++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    if (data[n]! > -500) data[n] = -200 + (s % 1500);
  }
  return { ...p.ct, data };
}

/** A scrambled template 'bad' and two shifted phantoms 'good0', 'good1'. */
function library(): { uid: string; ct: Volume; organ: Uint8Array }[] {
  const good = [[5, 0, -4], [-3, 4, 6]].map((shift, n) => {
    const p = phantom(DIMS, SPACING, centredAffine(eulerToMatrix(0, 0, 0), [0, 0, 0], shift as Vec3));
    return { uid: `good${n}`, ct: p.ct, organ: p.organ };
  });
  return [{ uid: 'bad', ct: scrambled(), organ: phantom(DIMS, SPACING).organ }, ...good];
}

test('nccInRegion: 1 for an image against itself, lower against a scrambled one, 0 for an empty region', () => {
  const q = clipNormalize({ ...query.ct, data: Float32Array.from(query.ct.data) }, -200, 1500);
  const region = { min: [-40, -40, -40] as Vec3, max: [40, 40, 40] as Vec3 };
  assert.ok(Math.abs(nccInRegion(q, q, IDENTITY34, region) - 1) < 1e-6);
  const bad = clipNormalize(scrambled() as Volume<Float32Array>, -200, 1500);
  assert.ok(nccInRegion(q, bad, IDENTITY34, region) < 0.5);
  assert.equal(nccInRegion(q, q, IDENTITY34, { min: [500, 500, 500], max: [600, 600, 600] }), 0);
});

test('topK keeps the k best-scored members, ties in the given order, everything when k is 0', () => {
  const ms = ['a', 'b', 'c', 'd'].map((seriesUid, n) => ({ seriesUid, s: [0.2, 0.9, 0.5, 0.9][n]! }));
  assert.deepEqual(topK(ms, (m) => m.s, 2).map((m) => m.seriesUid), ['b', 'd']);
  assert.deepEqual(topK(ms, (m) => m.s, 0).map((m) => m.seriesUid), ['a', 'b', 'c', 'd']);
  assert.deepEqual(topK(ms, (m) => m.s, 9).map((m) => m.seriesUid), ['a', 'b', 'c', 'd']);
});

test('capTemplates keeps the series with the best mean score, none when the cap is 0 or not binding', () => {
  const scores = new Map([['a', [0.9, 0.1]], ['b', [0.6, 0.6]], ['c', [0.55]], ['d', []]]);
  assert.deepEqual([...capTemplates(scores, 2)!], ['b', 'c']);
  assert.equal(capTemplates(scores, 0), undefined);
  assert.equal(capTemplates(scores, 4), undefined);
  assert.deepEqual([...capTemplates(scores, 3)!].sort(), ['a', 'b', 'c']);
});

/** The library's templates as members of one structure; `onMaskRead` hears of every mask read. */
function members(onMaskRead?: (uid: string) => void) {
  return library().map((t) => ({
    seriesUid: t.uid,
    points: extremePointsFromLabels({ ...t.ct, data: t.organ }, 1)!,
    loadVolume: () => Promise.resolve(t.ct),
    loadMask: () => {
      onMaskRead?.(t.uid);
      return Promise.resolve(t.organ);
    },
  }));
}

test('the atlas backend with selectTopK registers only the best templates and names them', async () => {
  const structures = [{ name: 'Organ', members: members() }];
  const { localizer, segmenter } = createAtlasBackend({ workers: 0, options: { selectTopK: 2 } });
  const [l] = await localizer.localize({ seriesUid: 'q', query: query.ct, templateSet: 's', structures, mode: 'wpl' });
  assert.deepEqual([...l!.templates!].sort(), ['good0', 'good1']);
  assert.equal(segmenter.cache.get('q', 'bad', segmenter.options)?.local['Organ'], undefined, 'the rejected template got no local registration');
  const [s] = await segmenter.segment({ seriesUid: 'q', volume: query.ct, structures: [{ name: 'Organ', boxes: l!.boxes, members: structures[0]!.members }] });
  assert.deepEqual([...s!.templates!].sort(), ['good0', 'good1']);
  let inter = 0;
  let truth = 0;
  for (let n = 0; n < s!.mask.length; n++) {
    inter += s!.mask[n]! & query.organ[n]!;
    truth += query.organ[n]!;
  }
  assert.ok((2 * inter) / (truth + s!.voxels) > 0.75);
});

test('members the archive marks as masked are not loaded before selection; only the chosen ones are', async () => {
  const loads = new Map<string, number>();
  const structures = [{
    name: 'Organ',
    members: members((uid) => loads.set(uid, (loads.get(uid) ?? 0) + 1)).map((m) => ({ ...m, hasMask: true })),
  }];
  const { localizer, segmenter } = createAtlasBackend({ workers: 0, options: { selectTopK: 2 } });
  await localizer.localize({ seriesUid: 'q', query: query.ct, templateSet: 's', structures, mode: 'wpl' });
  assert.equal(loads.get('bad'), undefined, 'the rejected template mask was never read');
  assert.ok((loads.get('good0') ?? 0) > 0 && (loads.get('good1') ?? 0) > 0);
  // hasMask false is trusted: those members count as points-only, and the segmenter says so.
  const pointsOnly = [{ ...structures[0]!, members: structures[0]!.members.map((m) => ({ ...m, hasMask: false })) }];
  await assert.rejects(
    segmenter.segment({ seriesUid: 'q2', volume: query.ct, structures: pointsOnly.map((s) => ({ name: s.name, boxes: [], members: s.members })) }),
    /have only extreme points/,
  );
});
