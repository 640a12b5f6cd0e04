/**
 * Files private to the user (trust issue, item 5): everything Delineate writes under its data
 * folder (database and its -wal/-shm, backups, exports) is 0600 and every folder it creates 0700,
 * even under a permissive umask; and nothing it logs (stderr) names the patient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { REPO_ROOT, tempDir } from '../../helpers/data.js';
import { writeOrganLabels } from '../../helpers/labels.js';

const BIN = join(REPO_ROOT, 'bin', 'delineate.js');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? [p, ...walk(p)] : [p];
  });
}

test('the data folder is private (0700/0600 under umask 022) and stderr never names the patient', { skip: process.platform === 'win32' ? 'POSIX permissions' : false }, (t) => {
  const dir = tempDir(t);
  const home = join(dir, 'home');
  const ph = writePhantomSeries(join(dir, 'ct'), { seed: 'private', columns: 32, rows: 24, slices: 12, patientName: 'Doe^Jane^Quincy', patientId: 'MRN-4711' });
  writeOrganLabels(ph, join(dir, 'labels.nii.gz'));
  writeFileSync(join(dir, 'names.json'), JSON.stringify({ 1: 'Liver' }));
  const exports = join(home, 'exports');
  const steps = [
    ['import', join(dir, 'ct')],
    ['import', join(dir, 'ct'), '--json'],
    ['series', 'list'],
    ['template', 'derive', '--set', 'abdomen', '--series', ph.seriesUid, '--labels', join(dir, 'labels.nii.gz'), '--names', join(dir, 'names.json')],
    ['export', 'rtstruct', '--series', ph.seriesUid, '--labels', join(dir, 'labels.nii.gz'), '--names', join(dir, 'names.json'), '--out', join(exports, 'rs', 'rs.dcm')],
    ['export', 'nifti', '--series', ph.seriesUid, '--out', join(exports, 'ct.nii.gz')],
    ['db', 'backup'],
    ['export', 'nifti', '--series', '9.9.9', '--out', join(exports, 'missing.nii.gz')],
  ];
  let stderr = '';
  for (const argv of steps) {
    // A permissive umask, as on a default desktop session: privacy must not depend on it.
    const r = spawnSync('sh', ['-c', 'umask 022; exec "$0" "$@"', process.execPath, BIN, ...argv], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, DELINEATE_HOME: home, DELINEATE_MODELS: join(dir, 'no-models') } });
    assert.equal(r.status, argv.includes('9.9.9') ? 1 : 0, `${argv.join(' ')}: ${r.stderr}`);
    stderr += r.stderr;
  }
  const all = walk(home);
  assert.ok(all.some((f) => f.endsWith('delineate.sqlite')) && all.some((f) => f.endsWith('rs.dcm')) && all.some((f) => /backups\/.*-manual\.sqlite$/.test(f)), all.join('\n'));
  for (const f of [home, ...all]) {
    const st = statSync(f);
    assert.equal(st.mode & 0o777, st.isDirectory() ? 0o700 : 0o600, `${f} is ${(st.mode & 0o777).toString(8)}`);
  }
  assert.ok(stderr.length > 0, 'the commands logged something');
  for (const part of ['Doe', 'Jane', 'Quincy']) assert.ok(!stderr.toLowerCase().includes(part.toLowerCase()), `stderr names the patient (${part}):\n${stderr}`);
});
