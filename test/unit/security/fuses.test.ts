/**
 * The Electron fuses electron-builder flips into the packaged binary
 * (https://www.electronjs.org/docs/latest/tutorial/fuses), read from electron-builder.yml with
 * electron-builder's own loader: no ELECTRON_RUN_AS_NODE, no NODE_OPTIONS, no --inspect arguments,
 * encrypted cookies, asar integrity validation and loading the app from asar only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBuilderConfig, validateBuilderConfig } from '../../../scripts/check-packaging.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

test('electron-builder.yml sets the required fuses', async () => {
  const { config, problems } = await loadBuilderConfig(root);
  assert.deepEqual(problems, []);
  const fuses = config.electronFuses;
  assert.ok(fuses, 'electronFuses is set');
  assert.equal(fuses.runAsNode, false);
  assert.equal(fuses.enableCookieEncryption, true);
  assert.equal(fuses.enableNodeOptionsEnvironmentVariable, false);
  assert.equal(fuses.enableNodeCliInspectArguments, false);
  assert.equal(fuses.enableEmbeddedAsarIntegrityValidation, true);
  assert.equal(fuses.onlyLoadAppFromAsar, true);
  assert.notEqual(fuses.grantFileProtocolExtraPrivileges, true, 'file:// gets no extra privileges');
});

test('the fuses named exist in the @electron/fuses electron-builder flips them with', () => {
  const req = createRequire(createRequire(join(root, 'package.json')).resolve('app-builder-lib/out/platformPackager.js'));
  const { FuseV1Options } = req('@electron/fuses') as { FuseV1Options: Record<string, number> };
  for (const f of ['RunAsNode', 'EnableCookieEncryption', 'EnableNodeOptionsEnvironmentVariable', 'EnableNodeCliInspectArguments', 'EnableEmbeddedAsarIntegrityValidation', 'OnlyLoadAppFromAsar']) {
    assert.equal(typeof FuseV1Options[f], 'number', `FuseV1Options.${f}`);
  }
});

test('a misspelt or mistyped fuse fails schema validation', async () => {
  const { config } = await loadBuilderConfig(root);
  const typo = { ...config, electronFuses: { ...config.electronFuses, runAsnode: false } };
  assert.match((await validateBuilderConfig(root, typo)).join('\n'), /does not validate/);
  const wrongType = { ...config, electronFuses: { ...config.electronFuses, runAsNode: 'no' } };
  assert.match((await validateBuilderConfig(root, wrongType)).join('\n'), /does not validate/);
});
