/**
 * The first-run setup screen's data (api modelsStatus, electron/engine/models/status.ts): no folder
 * is a normal state (atlas for both steps), every file is verified and a corrupted one is named, the
 * backend verdict follows backends.ts, and an unusable DELINEATE_EP is reported, not thrown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelsSetupStatus } from '../../../electron/engine/models/status.js';
import { API_METHODS } from '../../../electron/api-methods.js';
import { ApiValidationError } from '../../../electron/api.js';
import { tempDir } from '../../helpers/data.js';

const samFixture = fileURLToPath(new URL('../../fixtures/models/sam', import.meta.url));

test('without a models folder both steps use the atlas backend and the folder is the per-user one', async (t) => {
  const home = tempDir(t);
  const s = await modelsSetupStatus(undefined, { DELINEATE_HOME: home });
  assert.equal(s.dir, join(home, 'models'));
  assert.equal(s.dirSource, 'default');
  assert.equal(s.manifestOk, false);
  assert.match(s.problem ?? '', /manifest\.json/);
  assert.deepEqual(s.models, []);
  assert.equal(s.localizer.backend, 'atlas');
  assert.equal(s.segmenter.backend, 'atlas');
  assert.ok(s.executionProviders.available.includes('cpu'));
  assert.ok(s.executionProviders.available.includes(s.executionProviders.inUse));

  const env = await modelsSetupStatus(undefined, { DELINEATE_HOME: home, DELINEATE_MODELS: join(home, 'elsewhere') });
  assert.equal(env.dirSource, 'env');
  assert.equal(env.dir, join(home, 'elsewhere'));
});

test('a verified SAM pair selects MedSAM; one corrupted file is named and drops to atlas', async (t) => {
  const dir = join(tempDir(t), 'models');
  cpSync(samFixture, dir, { recursive: true });
  const good = await modelsSetupStatus(dir, {});
  assert.equal(good.dirSource, 'request');
  assert.equal(good.manifestOk, true);
  assert.ok(good.models.length >= 2 && good.models.every((m) => m.ok));
  assert.equal(good.segmenter.backend, 'medsam');
  assert.equal(good.localizer.backend, 'atlas', 'no MedLAM in this folder');
  assert.match(good.localizer.problem ?? '', /medlam-full/);

  const victim = good.models.find((m) => m.role === 'sam-decoder')!.file;
  const bytes = readFileSync(join(dir, victim));
  bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
  writeFileSync(join(dir, victim), bytes);
  const bad = await modelsSetupStatus(dir, {});
  const m = bad.models.find((x) => x.file === victim)!;
  assert.equal(m.ok, false);
  assert.match(m.problem ?? '', /sha256/);
  assert.ok(bad.models.filter((x) => x.file !== victim).every((x) => x.ok));
  assert.equal(bad.segmenter.backend, 'atlas');
  assert.ok((bad.segmenter.problem ?? '').includes(victim));
});

test('an unusable DELINEATE_EP is reported, not thrown', async (t) => {
  const s = await modelsSetupStatus(join(tempDir(t), 'none'), { DELINEATE_EP: 'tpu' });
  assert.equal(s.executionProviders.inUse, 'none');
  assert.match(s.executionProviders.problem ?? '', /DELINEATE_EP=tpu/);
});

test('modelsStatus requests are validated', () => {
  assert.deepEqual(API_METHODS.modelsStatus({}), {});
  assert.deepEqual(API_METHODS.modelsStatus({ dir: '/x' }), { dir: '/x' });
  assert.throws(() => API_METHODS.modelsStatus({ dir: '' }), ApiValidationError);
  assert.throws(() => API_METHODS.modelsStatus({ dir: 3 }), ApiValidationError);
  assert.throws(() => API_METHODS.modelsStatus(null), ApiValidationError);
});
