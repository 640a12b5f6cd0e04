/**
 * `eval` on real data (4D-Lung CT + its RTSTRUCT), through the command line:
 * - acceptance: the RTSTRUCT as both reference and prediction gives Dice 1 and HD95 0 for every ROI;
 * - a label-map prediction (the same contours, Tumor_c40 moved 2 voxels along i) gives the expected
 *   box wall distance and an HD95 no larger than the move;
 * - a label map from another frame is refused with a message naming it;
 * - stored results are the default prediction, and `eval cohort --set --series --reference-dir`
 *   scores them against the RTSTRUCT found in the folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { upsertLocalization, upsertSegmentation } from '../../../electron/engine/store/results.js';
import { readRtstruct, rasterizeStructures } from '../../../electron/engine/rtstruct/read.js';
import { writeNifti } from '../../../electron/engine/nifti/nifti.js';
import { maskBoxLps } from '../../../electron/engine/metrics/boxes.js';
import { referenceCandidates } from '../../../electron/engine/eval/series.js';
import type { Geometry, Vec3 } from '../../../electron/engine/volume/geometry.js';
import { REPO_ROOT, requireData, tempDir } from '../../helpers/data.js';
import { shifted } from '../../unit/metrics/helpers.js';

interface Row {
  name: string;
  dice: number | null;
  hd95Mm: number | null;
  surfaceDice2mm: number | null;
  boxIou: number | null;
  wallDistanceMm: number | null;
  hausdorffMm: number | null;
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'delineate.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(args: string[]): T {
  const r = cli([...args, '--json']);
  assert.equal(r.status, 0, `delineate ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

test('eval on 4D-Lung: RTSTRUCT against itself, a moved label map, an off-frame label map, stored results', async (t) => {
  const ctDir = requireData(t, '4dlung/ct');
  if (!ctDir) return;
  const rtFile = join(dirname(ctDir), 'rtstruct', '1-1.dcm');
  const dir = tempDir(t);
  const db = join(dir, 'db.sqlite');
  const imported = json<{ series: { seriesUid: string; dims: Vec3; spacing: Vec3; origin: Vec3; direction: Geometry['direction'] }[] }>([
    'import',
    dirname(ctDir), // CT and RTSTRUCT: the archive indexes the RTSTRUCT as an object of the series
    '--db',
    db,
  ]);
  assert.equal(imported.series.length, 1);
  const s = imported.series[0]!;
  const uid = s.seriesUid;
  const g: Geometry = { dims: s.dims, spacing: s.spacing, origin: s.origin, direction: s.direction };

  // Acceptance: the RTSTRUCT as reference and prediction.
  const self = json<{ structures: Row[] }>(['eval', '--db', db, '--series', uid, '--reference', rtFile, '--prediction', rtFile]);
  assert.deepEqual(self.structures.map((r) => r.name).sort(), ['Carina_c40', 'LN_c40', 'Tumor_c40', 'Vertebra_c40']);
  for (const r of self.structures) {
    assert.equal(r.dice, 1, `${r.name} Dice`);
    assert.equal(r.hd95Mm, 0, `${r.name} HD95`);
    assert.equal(r.surfaceDice2mm, 1, `${r.name} surface Dice`);
    assert.equal(r.boxIou, 1, `${r.name} box IoU`);
    assert.equal(r.wallDistanceMm, 0, `${r.name} wall distance`);
  }

  // A label map of the same contours with the tumour moved 2 voxels along i.
  const rasters = rasterizeStructures(readRtstruct(rtFile), g);
  const labels = new Uint8Array(g.dims[0] * g.dims[1] * g.dims[2]);
  const names: Record<string, string> = {};
  rasters.forEach((r, n) => {
    const m = r.name === 'Tumor_c40' ? shifted(r.mask, g.dims, [2, 0, 0]) : r.mask;
    for (let p = 0; p < m.length; p++) if (m[p]) labels[p] = n + 1;
    names[String(n + 1)] = r.name;
  });
  const labelFile = join(dir, 'pred.nii.gz');
  const namesFile = join(dir, 'names.json');
  writeNifti(labelFile, { ...g, data: labels });
  writeFileSync(namesFile, JSON.stringify(names));
  const moved = json<{ structures: Row[] }>([
    'eval', '--db', db, '--series', uid, '--reference', rtFile, '--prediction', labelFile, '--prediction-names', namesFile, '--structures', 'Tumor_c40', 'LN_c40',
  ]);
  const tumour = moved.structures.find((r) => r.name === 'Tumor_c40')!;
  const d = 2 * g.spacing[0];
  assert.ok(tumour.dice! < 1 && tumour.dice! > 0.8, `moved tumour Dice ${tumour.dice}`);
  assert.ok(tumour.hd95Mm! > 0 && tumour.hausdorffMm! <= d + 1e-6, `moved tumour HD95 ${tumour.hd95Mm}, Hausdorff ${tumour.hausdorffMm} vs move ${d}`);
  // Moving along i (patient x for this axial HFS series) moves the two x faces by d.
  assert.ok(Math.abs(tumour.wallDistanceMm! - (2 * d) / 6) < 1e-6, `wall distance ${tumour.wallDistanceMm}`);
  assert.equal(moved.structures.find((r) => r.name === 'LN_c40')!.dice, 1);
  assert.equal(moved.structures.length, 2);

  // The same label map placed 400 mm away: refused, naming the file.
  const far = join(dir, 'far.nii.gz');
  writeNifti(far, { ...g, origin: [g.origin[0], g.origin[1], g.origin[2] + 400], data: labels });
  const refused = cli(['eval', '--db', db, '--series', uid, '--reference', rtFile, '--prediction', far, '--prediction-names', namesFile, '--json']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /far\.nii\.gz does not lie on series/);
  assert.equal(refused.stdout, '');

  // Stored results (the default prediction): the RTSTRUCT's own masks and boxes under a set.
  const handle = openDatabase(db);
  try {
    handle.prepare('INSERT INTO template_sets (name) VALUES (?)').run('thorax-eval');
    upsertLocalization(handle, {
      seriesUid: uid,
      templateSet: 'thorax-eval',
      localizer: 'reference-copy',
      mode: 'wpl',
      models: [],
      structures: rasters.map((r) => ({ name: r.name, boxes: [maskBoxLps(r.mask, g)!], extremePoints: [], confidence: 1, flags: [] })),
    });
    upsertSegmentation(handle, {
      seriesUid: uid,
      templateSet: 'thorax-eval',
      segmenter: 'reference-copy',
      models: [],
      structures: rasters.map((r) => ({ name: r.name, mask: r.mask, voxels: r.voxels, volumeCc: 0 })),
    });
  } finally {
    handle.close();
  }
  const again = openDatabase(db);
  try {
    assert.deepEqual(referenceCandidates(again, uid).map((c) => c.path), [rtFile]);
    assert.deepEqual(referenceCandidates(again, 'no.such.series'), []);
  } finally {
    again.close();
  }

  const stored = json<{ prediction: string; structures: Row[] }>(['eval', '--db', db, '--series', uid, '--reference', rtFile]);
  assert.match(stored.prediction, /stored results/);
  assert.equal(stored.structures.length, 4);
  for (const r of stored.structures) assert.deepEqual([r.name, r.dice, r.hd95Mm, r.boxIou, r.wallDistanceMm], [r.name, 1, 0, 1, 0]);

  const csv = join(dir, 'cohort.csv');
  const cohort = json<{ form: string; structures: { name: string; cases: number; dice: { mean: number; n: number } }[] }>([
    'eval', 'cohort', '--db', db, '--set', 'thorax-eval', '--series', uid, '--reference-dir', dirname(rtFile), '--csv', csv,
  ]);
  assert.equal(cohort.form, 'stored');
  assert.deepEqual(cohort.structures.map((r) => [r.cases, r.dice.mean, r.dice.n]), [[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]]);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines.length, 1 + 4 + 4 * 3);
  assert.ok(lines.some((l) => l.startsWith(`${uid},Tumor_c40,1,0,1,1,0,0,`)), lines.join('\n'));
});
