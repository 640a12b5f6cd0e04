import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLeaveOneOut, templateSetKey, type CohortCase } from '../../../electron/engine/eval/cohort.js';
import type { Vec3 } from '../../../electron/engine/volume/geometry.js';
import type { LabelVolume, Volume } from '../../../electron/engine/volume/volume.js';
import { boxMask, grid } from './helpers.js';
import { OracleShiftLocalizer, OracleShiftSegmenter } from './doubles.js';

const dims: Vec3 = [20, 20, 12];
const spacing: Vec3 = [1, 1, 2.5];

/** Three synthetic cases: organ 1 ("Cube") in all, organ 2 ("Bar") only in case c1. */
function cases(): { list: CohortCase[]; labels: Map<string, LabelVolume> } {
  const labels = new Map<string, LabelVolume>();
  const list = ['c0', 'c1', 'c2'].map((id, n) => {
    const g = grid(dims, spacing, [n * 10, 0, 0]);
    const data = boxMask(dims, [4 + n, 5, 2], [11 + n, 12, 8]);
    if (id === 'c1') {
      const bar = boxMask(dims, [15, 2, 1], [17, 17, 3]);
      for (let p = 0; p < data.length; p++) if (bar[p]) data[p] = 2;
    }
    const lv: LabelVolume = { ...g, data };
    labels.set(id, lv);
    const vol: Volume = { ...g, data: new Float32Array(data.length) };
    return { id, loadVolume: async () => vol, loadLabels: async () => lv };
  });
  return { list, labels };
}

test('leave-one-out: templates exclude the query, known displacements give known metrics', async () => {
  const { list, labels } = cases();
  const values = new Map([['Cube', 1], ['Bar', 2]]);
  const labelsOf = async (id: string): Promise<LabelVolume> => labels.get(id)!;
  const localizer = new OracleShiftLocalizer(labelsOf, values, [2, 0, 0]);
  const segmenter = new OracleShiftSegmenter(labelsOf, values, [1, 0, 0]);
  const r = await runLeaveOneOut(list, { localizer, segmenter, names: new Map([[1, 'Cube'], [2, 'Bar']]), setName: 'unit' });

  assert.deepEqual(
    localizer.calls.map((c) => [c.query, c.templateSet.replace(/-[0-9a-f]{12}$/, ''), c.members]),
    [
      ['c0', 'unit-without-c0', { Cube: ['c1', 'c2'], Bar: ['c1'] }],
      ['c1', 'unit-without-c1', { Cube: ['c0', 'c2'] }],
      ['c2', 'unit-without-c2', { Cube: ['c0', 'c1'], Bar: ['c1'] }],
    ],
  );
  // Set names differ per query and carry a hash of the templates (support caches are keyed by them).
  assert.equal(new Set(localizer.calls.map((c) => c.templateSet)).size, 3);
  assert.match(localizer.calls[0]!.templateSet, /^unit-without-c0-[0-9a-f]{12}$/);
  // Bar has no template when c1 is the query (no other case has it): skipped, with the reason.
  assert.deepEqual(r.skipped, [{ caseId: 'c1', structure: 'Bar', reason: 'no other case contains it, so it has no template' }]);
  const cube = r.rows.filter((x) => x.name === 'Cube');
  assert.equal(cube.length, 3);
  for (const m of cube) {
    // Cube: 8 voxels wide along x (box side 7 mm between centres), box shifted 2 mm, mask 1 voxel.
    assert.equal(m.dice, 7 / 8);
    assert.equal(m.hd95Mm, 1);
    assert.ok(Math.abs(m.boxIou! - 5 / 9) < 1e-12, `box IoU ${m.boxIou}`);
    assert.ok(Math.abs(m.wallDistanceMm! - 4 / 6) < 1e-12, `wall ${m.wallDistanceMm}`);
  }
  // Bar is absent from c0 and c2 but the oracle (reading their empty labels) predicts nothing:
  // both empty there, which scores as agreement.
  const bar = r.rows.filter((x) => x.name === 'Bar');
  assert.deepEqual(bar.map((m) => [m.caseId, m.status, m.dice]), [['c0', 'both-empty', 1], ['c2', 'both-empty', 1]]);
  const s = r.summary.find((x) => x.name === 'Cube')!;
  assert.deepEqual([s.cases, s.dice.mean, s.dice.std, s.dice.n], [3, 7 / 8, 0, 3]);
  assert.equal(r.localizer, 'oracle-shift-test-double');
  assert.equal(r.timingsMs.length, 3);
});

test('leave-one-out without a segmenter scores boxes only; a failing case is reported, not fatal', async () => {
  const { list, labels } = cases();
  const values = new Map([['Cube', 1]]);
  const localizer = new OracleShiftLocalizer(async (id) => {
    if (id === 'c2') throw new Error('query c2 could not be read');
    return labels.get(id)!;
  }, values, [0, 0, 0]);
  const r = await runLeaveOneOut(list, { localizer, names: new Map([[1, 'Cube']]) });
  assert.deepEqual(r.rows.map((m) => [m.caseId, m.status, m.dice, m.boxIou, m.wallDistanceMm]), [
    ['c0', 'boxes-only', null, 1, 0],
    ['c1', 'boxes-only', null, 1, 0],
  ]);
  assert.deepEqual(r.skipped, [{ caseId: 'c2', reason: 'Error: query c2 could not be read' }]);
  await assert.rejects(runLeaveOneOut(list.slice(0, 1), { localizer, names: values as unknown as Map<number, string> }), /at least two cases/);
  await assert.rejects(runLeaveOneOut(list, { localizer, names: new Map([[1, 'Cube']]), structures: ['Liver'] }), /structure Liver is not in the label names \(Cube\)/);
});

test('template set keys change with the templates, not only with the query id', () => {
  const member = (id: string, z: number) => ({ seriesUid: id, points: [[0, 0, z]] as Vec3[], loadVolume: async (): Promise<Volume> => ({ ...grid([1, 1, 1]), data: new Float32Array(1) }) });
  const a = templateSetKey('loo', 'pt_4', [{ name: 'Brainstem', members: [member('pt_13', 1)] }]);
  const b = templateSetKey('loo', 'pt_4', [{ name: 'Brainstem', members: [member('pt_13', 2)] }]);
  const c = templateSetKey('loo', 'pt_4', [{ name: 'Brainstem', members: [member('pt_13', 1)] }]);
  assert.notEqual(a, b);
  assert.equal(a, c);
});

test('a structure whose predicted box is not finite is skipped with the reason; the others are scored', async () => {
  const { list, labels } = cases();
  const base = new OracleShiftLocalizer(async (id) => labels.get(id)!, new Map([['Cube', 1], ['Bar', 2]]), [0, 0, 0]);
  const broken = {
    name: 'nan-box-test-double',
    models: () => [],
    localize: async (req: Parameters<typeof base.localize>[0]) =>
      (await base.localize(req)).map((l) => (l.name === 'Bar' ? { ...l, boxes: [{ min: [NaN, 0, 0] as Vec3, max: [1, 1, 1] as Vec3 }] } : l)),
  };
  const r = await runLeaveOneOut(list, { localizer: broken, names: new Map([[1, 'Cube'], [2, 'Bar']]) });
  assert.equal(r.rows.filter((m) => m.name === 'Cube').length, 3);
  assert.deepEqual(
    r.skipped.filter((s) => s.structure === 'Bar' && /non-finite/.test(s.reason)).map((s) => s.caseId),
    ['c0', 'c2'],
  );
});
