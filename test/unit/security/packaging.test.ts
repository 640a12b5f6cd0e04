/**
 * The installer configuration, checked without the Electron binary (scripts/check-packaging.ts):
 * schema-valid, stable identity, `files` covering what the build emits, native modules unpacked and
 * real dependencies, and the main-process compile (tsc -p electron/main/tsconfig.build.json) run for
 * real into a temporary folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { APP_ID, PRODUCT_NAME, checkPackaging, globToRegExp, includedByFiles } from '../../../scripts/check-packaging.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

test('file patterns behave as electron-builder globs', () => {
  assert.ok(globToRegExp('node_modules/@cornerstonejs/codec-*/**').test('node_modules/@cornerstonejs/codec-charls/dist/a.wasm'));
  assert.ok(!globToRegExp('node_modules/@cornerstonejs/codec-*/**').test('node_modules/@cornerstonejs/core/index.js'));
  const files = ['dist/**', 'package.json', '!**/*.map', '!test/**'];
  assert.ok(includedByFiles(files, 'dist/electron/main/main.js'));
  assert.ok(!includedByFiles(files, 'dist/electron/main/main.js.map'));
  assert.ok(!includedByFiles(files, 'models/medlam.onnx'));
  assert.ok(!includedByFiles(files, 'test/x.ts'));
});

test('the packaging configuration checks out, including the main-process compile', async () => {
  const r = await checkPackaging(root, { compile: true });
  assert.deepEqual(r.problems, []);
  assert.equal(r.config.appId, APP_ID);
  assert.equal(r.config.productName, PRODUCT_NAME);
  assert.ok(r.checked.some((c) => c.startsWith('main-process compile succeeds')), 'the compile ran');
});
