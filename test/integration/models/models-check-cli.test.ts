/**
 * Acceptance (issue "Ship it"): `delineate models check` on a models folder in which one file was
 * altered by a single byte names that file, and only that file, and exits non-zero; the intact
 * folder passes and lists every file as verified. Uses the committed tiny SAM fixture models
 * (test/fixtures/models/sam) copied into a temporary folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/data.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = join(root, 'test', 'fixtures', 'models', 'sam');

function modelsCheck(dir: string, db: string): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.DELINEATE_MODELS;
  const r = spawnSync(process.execPath, [join(root, 'bin', 'delineate.js'), 'models', 'check', '--dir', dir, '--db', db, '--json'], { cwd: root, encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('models check verifies an intact folder and names the one corrupted file', (t) => {
  const dir = tempDir(t);
  const models = join(dir, 'models');
  cpSync(fixture, models, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(models, 'manifest.json'), 'utf8')) as { models: { name: string; file: string }[] };
  assert.ok(manifest.models.length >= 2, 'the fixture has at least two models');

  const ok = modelsCheck(models, join(dir, 'db.sqlite'));
  assert.equal(ok.status, 0, ok.stderr);
  const out = JSON.parse(ok.stdout) as { models: { name: string; file: string; ok: boolean }[]; executionProviders: string[] };
  assert.deepEqual(out.models.map((m) => [m.file, m.ok]), manifest.models.map((m) => [m.file, true]));
  assert.ok(out.executionProviders.includes('cpu'));

  const victim = manifest.models[manifest.models.length - 1]!.file;
  const bytes = readFileSync(join(models, victim));
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(join(models, victim), bytes);

  const bad = modelsCheck(models, join(dir, 'db.sqlite'));
  assert.equal(bad.status, 1, 'a corrupted model fails the check');
  assert.ok(bad.stderr.includes(victim), `stderr names ${victim}: ${bad.stderr}`);
  assert.match(bad.stderr, /sha256/);
  for (const m of manifest.models.filter((x) => x.file !== victim)) assert.ok(!bad.stderr.includes(m.file), `intact ${m.file} is not blamed`);
});
