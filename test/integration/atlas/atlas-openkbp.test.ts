/**
 * The atlas backend on real head-and-neck CT (OpenKBP): patient 4 as the query, patients 13 and 34
 * as templates, 7 OARs, localization then segmentation on worker threads. An accuracy regression
 * test: the run is deterministic (seeded sampling), and the thresholds sit just below what it
 * measures, so a change that loses accuracy fails. Measured with joint label fusion + locally
 * weighted vote + intensity refinement, boxes from the segmented contours: mean box IoU 0.619 ->
 * asserted >= 0.61 (0.612 from the affinely carried masks, before boxFromSegmentation; points-only
 * templates 0.585 -> >= 0.575); mean Dice 0.761 -> >= 0.75; per OAR Dice (Brainstem 0.856,
 * SpinalCord 0.857, RightParotid 0.744, LeftParotid 0.793, Esophagus 0.610, Larynx 0.558,
 * Mandible 0.911) -> each at most 0.04 lower. Earlier fusions on this case: locally weighted vote
 * and refinement 0.765, without refinement 0.743.
 * The full leave-one-out evaluation is `npm run bench -- atlas`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAtlasBackend } from '../../../electron/engine/localize/atlas/index.js';
import { boxIou, maskBoxLps, wallDistanceMm } from '../../../electron/engine/metrics/boxes.js';
import { requireData } from '../../helpers/data.js';
import { binary, diceOf, loadCase, referenceBox, templatesFrom } from './openkbp.js';

const MIN_MEAN_BOX_IOU = 0.61;
const MIN_MEAN_DICE = 0.75;
const MIN_MEAN_BOX_IOU_POINTS = 0.575;
/** Per OAR: the Dice this run measured, minus 0.04. */
const MIN_DICE: Record<string, number> = {
  Brainstem: 0.816,
  SpinalCord: 0.817,
  RightParotid: 0.704,
  LeftParotid: 0.753,
  Esophagus: 0.57,
  Larynx: 0.518,
  Mandible: 0.871,
};

test('atlas localizer and segmenter on OpenKBP: query pt_4 from templates pt_13 and pt_34', async (t) => {
  const dir = requireData(t, 'openkbp/pt_4_ct.nii.gz');
  if (!dir) return;
  const root = dir.replace(/\/pt_4_ct\.nii\.gz$/, '');
  const query = loadCase(root, '4');
  const templates = [loadCase(root, '13'), loadCase(root, '34')];
  const { localizer, segmenter } = createAtlasBackend({ workers: 2 });
  const loc = await localizer.localize({
    seriesUid: query.seriesUid, query: query.ct, templateSet: 'openkbp', structures: templatesFrom(templates, true), mode: 'wpl',
  });
  // Points-only templates reuse the cached registrations and box from the carried points.
  const locPts = await localizer.localize({
    seriesUid: query.seriesUid, query: query.ct, templateSet: 'openkbp', structures: templatesFrom(templates, false), mode: 'wpl',
  });
  const seg = await segmenter.segment({
    seriesUid: query.seriesUid, volume: query.ct,
    structures: templatesFrom(templates, true).map((s) => ({ name: s.name, boxes: loc.find((l) => l.name === s.name)!.boxes, members: s.members })),
  });
  assert.equal(loc.length, 7);
  assert.equal(seg.length, 7);
  for (const s of seg) assert.deepEqual(loc.find((l) => l.name === s.name)!.boxes[0], maskBoxLps(s.mask, query.ct), `${s.name}: the box is the contour's`);
  let iouSum = 0;
  let iouPtsSum = 0;
  let diceSum = 0;
  for (const [value, name] of Object.entries(query.names)) {
    const l = loc.find((x) => x.name === name)!;
    const s = seg.find((x) => x.name === name)!;
    const ref = referenceBox(query, Number(value))!;
    const iou = boxIou(l.boxes[0]!, ref);
    const iouPts = boxIou(locPts.find((x) => x.name === name)!.boxes[0]!, ref);
    iouPtsSum += iouPts;
    const dice = diceOf(s.mask, binary(query.labels, Number(value)));
    t.diagnostic(`${name}: box IoU ${iou.toFixed(3)}, wall ${wallDistanceMm(l.boxes[0]!, ref).toFixed(1)} mm, Dice ${dice.toFixed(3)}, points-only box IoU ${iouPts.toFixed(3)}, confidence ${l.confidence.toFixed(2)} ${l.flags.join(',')}`);
    assert.ok(!l.flags.includes('absent'), `${name} flagged absent`);
    assert.ok(!s.flags.includes('absent'), `${name} segmentation flagged absent`);
    assert.deepEqual([...(s.templates ?? [])].sort(), templates.map((c) => c.seriesUid).sort(), `${name}: the templates fused are named`);
    assert.ok(MIN_DICE[name] !== undefined, `no Dice floor for ${name}`);
    assert.ok(dice >= MIN_DICE[name]!, `${name} Dice ${dice.toFixed(3)} < ${MIN_DICE[name]}`);
    iouSum += iou;
    diceSum += dice;
  }
  const meanIou = iouSum / 7;
  const meanDice = diceSum / 7;
  const meanIouPts = iouPtsSum / 7;
  t.diagnostic(`mean box IoU ${meanIou.toFixed(3)} (points-only ${meanIouPts.toFixed(3)}), mean Dice ${meanDice.toFixed(3)}`);
  assert.ok(meanIouPts >= MIN_MEAN_BOX_IOU_POINTS, `points-only mean box IoU ${meanIouPts.toFixed(3)} < ${MIN_MEAN_BOX_IOU_POINTS}`);
  assert.ok(meanIou >= MIN_MEAN_BOX_IOU, `mean box IoU ${meanIou.toFixed(3)} < ${MIN_MEAN_BOX_IOU}`);
  assert.ok(meanDice >= MIN_MEAN_DICE, `mean Dice ${meanDice.toFixed(3)} < ${MIN_MEAN_DICE}`);
});
