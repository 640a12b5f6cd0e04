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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../../../electron/cli/args.js';
import type { CliContext } from '../../../electron/cli/command.js';
import { evalCohortCommand, type CohortOutput } from '../../../electron/cli/commands/eval-cohort.js';
import { LOCALIZERS } from '../../../electron/engine/eval/backends.js';
import { runLeaveOneOut } from '../../../electron/engine/eval/cohort.js';
import { cohortCsv } from '../../../electron/engine/eval/cohort-stats.js';
import { niftiCohort } from '../../../electron/engine/eval/nifti-cohort.js';
import { readLabelNames } from '../../../electron/engine/eval/sources.js';
import type { LabelVolume } from '../../../electron/engine/volume/volume.js';
import { REPO_ROOT, requireData, tempDir } from '../../helpers/data.js';
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

test('eval cohort --nifti-dir runs a registered backend end to end and writes the CSV', async (t) => {
  const dir = requireData(t, 'openkbp');
  if (!dir) return;
  const out = join(tempDir(t), 'loo.csv');
  const names = readLabelNames(join(dir, 'oar_names.json'));
  const byId = new Map(niftiCohort(dir).map((c) => [c.id, c]));
  const values = new Map([...names].map(([v, n]) => [n, v]));
  // Registered for this test only: the product registry holds real backends.
  LOCALIZERS['oracle-shift-test-double'] = async () => new OracleShiftLocalizer((id) => byId.get(id)!.loadLabels(), values, [3, 0, 0]);
  t.after(() => delete LOCALIZERS['oracle-shift-test-double']);
  const logs: string[] = [];
  const args = parseArgs(
    ['--nifti-dir', dir, '--backend', 'oracle-shift-test-double', '--cases', 'pt_4', 'pt_13', 'pt_17', '--structures', 'Brainstem', 'Larynx', '--csv', out],
    evalCohortCommand.flags,
  );
  const ctx: CliContext = {
    db: () => assert.fail('leave-one-out must not open the database'),
    dbPath: '',
    json: true,
    log: (m) => logs.push(m),
    signal: new AbortController().signal,
  };
  const r = (await evalCohortCommand.run(args, ctx)) as CohortOutput;
  assert.equal(r.form, 'leave-one-out');
  assert.equal(r.localizer, 'oracle-shift-test-double');
  assert.equal(r.segmenter, null);
  assert.deepEqual(r.structures.map((s) => s.name), ['Brainstem', 'Larynx']);
  for (const s of r.structures) {
    assert.equal(s.dice.n, 0, 'no segmenter: no Dice');
    assert.ok(Math.abs(s.wallDistanceMm.mean! - 1) < 1e-9, `${s.name} wall ${s.wallDistanceMm.mean}`);
  }
  assert.equal(r.csv, out);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines.length, 1 + r.cases.length + 3 * 2);
  assert.match(lines[1]!, /^pt_4,Brainstem,,,,[0-9.]+,1,/);
  assert.match(evalCohortCommand.human!(r), /Brainstem\s+3\s+-/);
  assert.ok(logs.some((l) => l.includes('leave-one-out over 3 cases')), logs.join('\n'));
});
