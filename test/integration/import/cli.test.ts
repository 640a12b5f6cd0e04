/**
 * The three import commands through the real CLI on the phantom (no real data needed): one JSON
 * document on stdout, `series list`, `export nifti` read back with the voxel-to-patient mapping
 * intact, and non-zero exits that name the input at fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ImportResult, SeriesSummary } from '../../../electron/api.js';
import { readNifti } from '../../../electron/engine/nifti/nifti.js';
import { voxelToPatient } from '../../../electron/engine/volume/geometry.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { REPO_ROOT, tempDir } from '../../helpers/data.js';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'delineate.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('import, series list and export nifti on an oblique phantom', async (t) => {
  const dir = tempDir(t);
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const ph = writePhantomSeries(join(dir, 'ct'), { seed: 'cli', slices: 8, columns: 24, rows: 20, orientation: [c, s, 0, -s, c, 0], shuffle: true });
  const db = join(dir, 'a.db');
  const imp = cli(['import', join(dir, 'ct'), '--db', db, '--json']);
  assert.equal(imp.status, 0, imp.stderr);
  const res = JSON.parse(imp.stdout) as ImportResult;
  assert.deepEqual(Object.keys(res).sort(), ['objects', 'series', 'skipped', 'warnings']);
  assert.equal(res.series[0]!.seriesUid, ph.seriesUid);
  const list = JSON.parse(cli(['series', 'list', '--db', db, '--json']).stdout) as { series: SeriesSummary[] };
  assert.deepEqual(list.series, res.series);
  const out = join(dir, 'v.nii.gz');
  const ex = cli(['export', 'nifti', '--series', ph.seriesUid, '--out', out, '--db', db, '--json']);
  assert.equal(ex.status, 0, ex.stderr);
  assert.deepEqual(JSON.parse(ex.stdout), { out, dims: [24, 20, 8], spacing: ph.geometry.spacing });
  const v = readNifti(out);
  for (let k = 0; k < 8; k++)
    for (let j = 0; j < 20; j++)
      for (let i = 0; i < 24; i++) {
        const p = voxelToPatient(v, [i, j, k]);
        assert.equal(v.data[i + 24 * (j + 20 * k)], ph.huAt(p), `voxel ${i},${j},${k}`);
      }
});

test('failures exit non-zero and name the input', (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'a.db');
  const missing = join(dir, 'nope');
  const a = cli(['import', missing, '--db', db, '--json']);
  assert.notEqual(a.status, 0);
  assert.equal(a.stdout, '');
  assert.match(a.stderr, /nope/);
  const b = cli(['export', 'nifti', '--series', '1.2.3.999', '--out', join(dir, 'x.nii'), '--db', db, '--json']);
  assert.notEqual(b.status, 0);
  assert.match(b.stderr, /1\.2\.3\.999/);
});
