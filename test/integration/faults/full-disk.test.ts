/**
 * Full disk and read-only folders (trust issue, "Faults"): full-disk.scenario.ts runs in a private
 * mount namespace (`unshare -m`) with two small tmpfs (the archive, the export folder), so nothing outside this test sees the mount.
 * Needs root (or CAP_SYS_ADMIN) and util-linux's unshare; skips with a message otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { REPO_ROOT, tempDir } from '../../helpers/data.js';
import { writeOrganLabels } from '../../helpers/labels.js';

/** The parent runner's NODE_TEST_CONTEXT would make the inner runner report in its binary protocol. */
function childEnv(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
  return env;
}

function namespacesAllowed(): string | undefined {
  if (process.platform !== 'linux') return 'mount namespaces are Linux only';
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /mnt && umount /mnt'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `cannot mount a tmpfs in a private mount namespace (needs root and unshare): ${(r.stderr || r.error?.message || '').trim()}`;
}

test('import, template derive, run and export on a full disk and a read-only folder (tmpfs in a private mount namespace)', (t) => {
  const why = namespacesAllowed();
  if (why) return t.skip(`full-disk test skipped: ${why}`);
  const dir = tempDir(t);
  const input = join(dir, 'input');
  const mount = join(dir, 'mnt');
  mkdirSync(mount, { recursive: true });
  const a = writePhantomSeries(join(input, 'ct-a'), { seed: 'disk-a', columns: 40, rows: 32, slices: 24 });
  const b = writePhantomSeries(join(input, 'ct-b'), { seed: 'disk-b', columns: 40, rows: 32, slices: 24 });
  writeOrganLabels(a, join(input, 'labels.nii.gz'));
  writeFileSync(join(input, 'names.json'), JSON.stringify({ 1: 'Liver' }));
  const scenario = join(REPO_ROOT, 'test', 'integration', 'faults', 'full-disk.scenario.ts');
  const r = spawnSync(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', `mkdir -p "$0/archive" "$0/exports" && mount -t tmpfs -o size=16m,mode=0700 tmpfs "$0/archive" && mount -t tmpfs -o size=4m,mode=0700 tmpfs "$0/exports" && exec "$1" --import tsx "$2"`, mount, process.execPath, scenario],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...childEnv(), DELINEATE_FAULT_MOUNT: mount, DELINEATE_FAULT_INPUT: input, DELINEATE_FAULT_SERIES: `${a.seriesUid},${b.seriesUid}`, DELINEATE_MODELS: join(dir, 'no-models'), DELINEATE_HOME: join(mount, 'archive', 'home') },
      timeout: 170_000,
    },
  );
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  t.diagnostic(r.stderr.trim());
  assert.equal(r.stderr.match(/^ok - /gm)?.length, 7, r.stderr);
});
