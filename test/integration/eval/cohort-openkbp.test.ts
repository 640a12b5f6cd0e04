/**
 * Leave-one-out over the OpenKBP folder (six head-and-neck CTs with seven organ labels) through the
 * cohort runner, with the ORACLE-SHIFT TEST DOUBLES of test/unit/metrics/doubles.ts standing in for a
 * backend: they return each query's own reference displaced by a known amount, so every number is
 * known in advance and the test checks the plumbing on real files (discovery, label/CT grids,
 * template membership, metrics, summary, CSV). The command line form is checked for its refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runLeaveOneOut } from '../../../electron/engine/eval/cohort.js';
import { cohortCsv } from '../../../electron/engine/eval/cohort-stats.js';
import { niftiCohort } from '../../../electron/engine/eval/nifti-cohort.js';
import { readLabelNames } from '../../../electron/engine/eval/sources.js';
import type { LabelVolume } from '../../../electron/engine/volume/volume.js';
import { REPO_ROOT, requireData } from '../../helpers/data.js';
import { OracleShiftLocalizer, OracleShiftSegmenter } from '../../unit/metrics/doubles.js';

test('leave-one-out over OpenKBP with oracle-shift test doubles gives the known displacement metrics', async (t) => {
  const dir = requireData(t, 'openkbp');
  if (!dir) return;
  const names = readLabelNames(join(dir, 'oar_names.json'));
  const cases = niftiCohort(dir);
  assert.deepEqual(cases.map((c) => c.id), ['pt_4', 'pt_13', 'pt_17', 'pt_22', 'pt_31', 'pt_34']);
  const byId = new Map(cases.map((c) => [c.id, c]));
  const labelsOf = (id: string): Promise<LabelVolume> => byId.get(id)!.loadLabels();
  const values = new Map([...names].map(([v, n]) => [n, v]));
  const localizer = new OracleShiftLocalizer(labelsOf, values, [0, 0, 5]);
  const segmenter = new OracleShiftSegmenter(labelsOf, values, [0, 0, 0]);
  const r = await runLeaveOneOut(cases, { localizer, segmenter, names, structures: ['Brainstem', 'SpinalCord', 'Mandible'] });

  assert.equal(r.skipped.length, 0, JSON.stringify(r.skipped));
  for (const call of localizer.calls) {
    for (const members of Object.values(call.members)) assert.ok(!members.includes(call.query), `${call.query} is its own template`);
  }
  const present = r.rows.filter((m) => m.status === 'ok');
  assert.ok(present.length >= 15, `only ${present.length} structure/case pairs present`);
  for (const m of present) {
    // Masks are the reference itself; boxes are moved 5 mm along z, so two faces are 5 mm off.
    assert.equal(m.dice, 1);
    assert.equal(m.hd95Mm, 0);
    assert.ok(Math.abs(m.wallDistanceMm! - 10 / 6) < 1e-9, `${m.caseId} ${m.name} wall ${m.wallDistanceMm}`);
    assert.ok(m.boxIou! > 0 && m.boxIou! < 1);
  }
  const brainstem = r.summary.find((s) => s.name === 'Brainstem')!;
  assert.equal(brainstem.cases, 6);
  assert.ok(Math.abs(brainstem.wallDistanceMm.mean! - 10 / 6) < 1e-9);
  assert.ok(brainstem.wallDistanceMm.std! < 1e-9);
  const csv = cohortCsv(r.rows, r.summary).trim().split('\n');
  assert.equal(csv.length, 1 + r.rows.length + 3 * r.summary.length);
});

test('eval cohort --nifti-dir refuses an unknown backend and a missing folder, naming them', (t) => {
  const dir = requireData(t, 'openkbp');
  if (!dir) return;
  const run = (args: string[]): { status: number | null; stderr: string } => {
    const p = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'delineate.js'), 'eval', 'cohort', ...args, '--db', ':memory:', '--json'], { encoding: 'utf8' });
    return { status: p.status, stderr: p.stderr };
  };
  const unknown = run(['--nifti-dir', dir, '--backend', 'no-such-backend']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /no localizer backend 'no-such-backend' in this build/);
  const missing = run(['--nifti-dir', join(dir, 'absent'), '--backend', 'x', '--names', join(dir, 'oar_names.json')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read cohort folder .*absent/);
});
