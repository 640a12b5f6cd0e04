import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAtlasBackend } from '../../../electron/engine/localize/atlas/index.js';
import { extremePointsFromLabels } from '../../../electron/engine/localize/extreme-points.js';
import type { Progress, StructureTemplates } from '../../../electron/engine/localize/localizer.js';
import { boxIou, maskBoxLps } from '../../../electron/engine/metrics/boxes.js';
import { CancelledError, DelineateError } from '../../../electron/engine/errors.js';
import { centredAffine, eulerToMatrix } from '../../../electron/engine/registration/transform.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { Volume } from '../../../electron/engine/volume/volume.js';
import { phantom } from './phantom.js';

const DIMS: Vec3 = [40, 36, 36];
const SPACING: Vec3 = [4, 4, 4];

function template(uid: string, shift: Vec3, pitch: number, withMask: boolean): { uid: string; ct: Volume; organ: Uint8Array; points: Vec3[]; withMask: boolean } {
  const p = phantom(DIMS, SPACING, centredAffine(eulerToMatrix(pitch, 0, 0), [0, 0, 0], shift));
  const labels = { ...p.ct, data: p.organ };
  return { uid, ct: p.ct, organ: p.organ, points: extremePointsFromLabels(labels, 1)!, withMask };
}

function structures(ts: ReturnType<typeof template>[]): StructureTemplates[] {
  return [
    {
      name: 'Organ',
      members: ts.map((t) => ({
        seriesUid: t.uid,
        points: t.points,
        loadVolume: () => Promise.resolve(t.ct),
        ...(t.withMask ? { loadMask: () => Promise.resolve(t.organ) } : {}),
      })),
    },
  ];
}

const query = phantom(DIMS, SPACING, centredAffine(eulerToMatrix(0.05, 0, 0), [0, 0, 0], [-6, 8, 5]));
const truthBox = maskBoxLps(query.organ, query.ct)!;

test('atlas localizer on worker threads boxes the organ of a transformed phantom, with progress', async () => {
  const ts = [template('t1', [5, 0, -4], 0, false), template('t2', [-3, 4, 6], -0.05, false)];
  const { localizer } = createAtlasBackend({ workers: 2 });
  const progress: Progress[] = [];
  const [r] = await localizer.localize({
    seriesUid: 'q', query: query.ct, templateSet: 'phantom', structures: structures(ts), mode: 'wpl',
    onProgress: (p) => progress.push(p),
  });
  assert.ok(r);
  const iou = boxIou(r.boxes[0]!, truthBox);
  assert.ok(iou > 0.6, `box IoU ${iou.toFixed(3)}`);
  assert.equal(r.extremePoints.length, 6);
  assert.ok(r.confidence > 0 && r.confidence <= 1, `confidence ${r.confidence}`);
  assert.ok(!r.flags.includes('absent'));
  assert.equal(progress.at(-1)?.done, 2);
  assert.equal(progress.at(-1)?.total, 2);
});

test('in-process and worker-thread runs give the same points', async () => {
  const ts = [template('t1', [5, 0, -4], 0, false)];
  const a = await createAtlasBackend({ workers: 0 }).localizer.localize({ seriesUid: 'q', query: query.ct, templateSet: 's', structures: structures(ts), mode: 'wpl' });
  const b = await createAtlasBackend({ workers: 1 }).localizer.localize({ seriesUid: 'q', query: query.ct, templateSet: 's', structures: structures(ts), mode: 'wpl' });
  assert.deepEqual(a[0]!.extremePoints, b[0]!.extremePoints);
});

test('atlas segmenter propagates template masks and reuses the localizer registrations', async () => {
  const ts = [template('t1', [5, 0, -4], 0, true), template('t2', [-3, 4, 6], -0.05, true), template('t3', [2, -5, 0], 0.04, true)];
  const { localizer, segmenter } = createAtlasBackend({ workers: 2 });
  const loc = await localizer.localize({ seriesUid: 'q', query: query.ct, templateSet: 's', structures: structures(ts), mode: 'wpl' });
  assert.equal(localizer.cache, segmenter.cache);
  assert.ok(segmenter.cache.get('q', 't2', segmenter.options)?.local['Organ'], 'the local transform is cached for the segmenter');
  const [s] = await segmenter.segment({ seriesUid: 'q', volume: query.ct, structures: [{ name: 'Organ', boxes: loc[0]!.boxes, members: structures(ts)[0]!.members }] });
  assert.ok(s);
  let inter = 0;
  let truth = 0;
  for (let n = 0; n < s.mask.length; n++) {
    inter += s.mask[n]! & query.organ[n]!;
    truth += query.organ[n]!;
  }
  const dice = (2 * inter) / (truth + s.voxels);
  assert.ok(dice > 0.75, `Dice ${dice.toFixed(3)}`);
  assert.ok(Math.abs(s.volumeCc - (s.voxels * 64) / 1000) < 1e-9);
});

test('a query finer than the segmentation spacing is segmented on a coarser grid and its contour returned on the query grid', async () => {
  const ts = [template('t1', [5, 0, -4], 0, true), template('t2', [-3, 4, 6], -0.05, true), template('t3', [2, -5, 0], 0.04, true)];
  // The same phantom and field of view as `query`, in 1.6 mm pixels: the default grid is 2 mm in-plane.
  const fineSpacing: Vec3 = [1.6, 1.6, 4];
  const fine = phantom([100, 90, 36], fineSpacing, centredAffine(eulerToMatrix(0.05, 0, 0), [0, 0, 0], [-6, 8, 5]));
  const dice = (a: Uint8Array, b: Uint8Array): number => {
    let inter = 0;
    let sum = 0;
    for (let n = 0; n < a.length; n++) {
      inter += a[n]! & b[n]!;
      sum += a[n]! + b[n]!;
    }
    return (2 * inter) / sum;
  };
  const run = async (options: { segmentationSpacingMm: number }, workers = 2) =>
    (await createAtlasBackend({ workers, options }).segmenter.segment({ seriesUid: 'fine', volume: fine.ct, structures: [{ name: 'Organ', boxes: [], members: structures(ts)[0]!.members }] }))[0]!;
  const coarse = await run({ segmentationSpacingMm: 2 });
  assert.equal(coarse.mask.length, 100 * 90 * 36, 'the contour is on the query grid');
  assert.ok(Math.abs(coarse.volumeCc - (coarse.voxels * 1.6 * 1.6 * 4) / 1000) < 1e-9);
  const d = dice(coarse.mask, fine.organ);
  assert.ok(d > 0.75, `Dice ${d.toFixed(3)}`);
  // The worker carries the contour to the query grid itself: the calling thread gets the same mask.
  const onThread = await run({ segmentationSpacingMm: 2 }, 0);
  assert.deepEqual(onThread.mask, coarse.mask);
  assert.equal(onThread.voxels, coarse.voxels);
  // On the query's own grid (no coarser grid): the same contour within a voxel's worth.
  const own = await run({ segmentationSpacingMm: 0 });
  const agree = dice(coarse.mask, own.mask);
  assert.ok(agree > 0.9, `Dice between the coarse-grid and own-grid contours ${agree.toFixed(3)}`);
  assert.deepEqual(coarse.templates, own.templates);
});

test('structures fused on worker threads (one per worker) equal those fused on the calling thread', async () => {
  const ts = [template('t1', [5, 0, -4], 0, true), template('t2', [-3, 4, 6], -0.05, true), template('t3', [2, -5, 0], 0.04, true)];
  // Two structures, the second the organ's upper half, so the two workers fuse different masks.
  const upper = ts.map((t) => ({ ...t, organ: t.organ.map((v, n) => (n >= t.organ.length / 2 ? v : 0)) }));
  const members = [...structures(ts), { name: 'Upper', members: structures(upper)[0]!.members }];
  const run = async (workers: number) => {
    const { segmenter } = createAtlasBackend({ workers, options: { boxFromSegmentation: false } });
    const fusedCounts: number[] = [];
    const out = await segmenter.segment({
      seriesUid: 'q', volume: query.ct, onProgress: (p) => { if (/fused/.test(p.message ?? '')) fusedCounts.push(p.done); },
      structures: members.map((m) => ({ name: m.name, boxes: [], members: m.members })),
    });
    return { out, fusedCounts };
  };
  const here = await run(0);
  const there = await run(2);
  assert.deepEqual(there.fusedCounts, [1, 2]);
  assert.equal(there.out.length, 2);
  for (let n = 0; n < 2; n++) {
    const a = here.out[n]!;
    const b = there.out[n]!;
    assert.equal(b.name, members[n]!.name);
    assert.ok(b.voxels > 0, `${b.name} is empty`);
    assert.deepEqual(b.mask, a.mask, `${b.name}: the same mask on both threads`);
    assert.equal(b.confidence, a.confidence);
    assert.deepEqual(b.flags, a.flags);
    assert.deepEqual(b.templates, a.templates);
  }
  assert.notDeepEqual(there.out[0]!.mask, there.out[1]!.mask);
});

test('atlas segmenter refuses structures whose templates have only points, naming them', async () => {
  const ts = [template('t1', [5, 0, -4], 0, false)];
  const { segmenter } = createAtlasBackend({ workers: 0 });
  await assert.rejects(
    segmenter.segment({ seriesUid: 'q', volume: query.ct, structures: [{ name: 'Organ', boxes: [], members: structures(ts)[0]!.members }] }),
    (e: unknown) => e instanceof DelineateError && e.code === 'unsupported' && /Organ/.test(e.message) && /MedSAM/.test(e.message),
  );
});

test('an aborted signal cancels a localization running on worker threads', async () => {
  const ts = [template('t1', [5, 0, -4], 0, false), template('t2', [-3, 4, 6], -0.05, false)];
  const { localizer } = createAtlasBackend({ workers: 2 });
  const ac = new AbortController();
  const run = localizer.localize({ seriesUid: 'q', query: query.ct, templateSet: 's', structures: structures(ts), mode: 'wpl', signal: ac.signal, onProgress: (p) => {
    // Abort once a worker reports that it is registering: the workers are terminated mid-run.
    if (p.message?.includes('affine')) ac.abort();
  } });
  await assert.rejects(run, (e: unknown) => e instanceof CancelledError);
});

test('with contour templates the localizer boxes the segmented contour, and segment reuses it once', async () => {
  const ts = [template('t1', [5, 0, -4], 0, true), template('t2', [-3, 4, 6], -0.05, true), template('t3', [2, -5, 0], 0.04, true)];
  const { localizer, segmenter } = createAtlasBackend({ workers: 2 });
  const members = structures(ts)[0]!.members;
  const [loc] = await localizer.localize({ seriesUid: 'q', query: query.ct, templateSet: 's', structures: structures(ts), mode: 'wpl' });
  assert.ok(loc);
  const progress: Progress[] = [];
  const segReq = { seriesUid: 'q', volume: query.ct, structures: [{ name: 'Organ', boxes: loc.boxes, members }], onProgress: (p: Progress) => progress.push(p) };
  const [held] = await segmenter.segment(segReq);
  assert.ok(held && held.voxels > 0);
  assert.equal(progress.length, 0, 'the segmentation made for the localizer is taken, nothing is registered again');
  assert.deepEqual(loc.boxes[0], maskBoxLps(held.mask, query.ct), 'the box is the contour a planner receives');
  assert.deepEqual(loc.extremePoints, extremePointsFromLabels({ ...query.ct, data: held.mask }, 1));
  // Taken once: the next segment computes afresh, and gives the same contour.
  const [again] = await segmenter.segment(segReq);
  assert.ok(progress.length > 0);
  assert.deepEqual(again!.mask, held.mask);
  assert.deepEqual(again!.templates, held.templates);
  // Another volume with the same series UID is never served from what was kept.
  await localizer.localize({ seriesUid: 'q', query: query.ct, templateSet: 's', structures: structures(ts), mode: 'wpl' });
  const copy = { ...query.ct, data: query.ct.data.slice() };
  progress.length = 0;
  await segmenter.segment({ ...segReq, volume: copy });
  assert.ok(progress.length > 0, 'a different volume object is segmented, not served');
  // With the option off, the box comes from the affinely carried masks and nothing is kept.
  const off = createAtlasBackend({ workers: 2, options: { boxFromSegmentation: false } });
  const [affine] = await off.localizer.localize({ seriesUid: 'q', query: query.ct, templateSet: 's', structures: structures(ts), mode: 'wpl' });
  assert.ok(boxIou(affine!.boxes[0]!, truthBox) > 0.5);
  progress.length = 0;
  await off.segmenter.segment(segReq);
  assert.ok(progress.length > 0);
});
