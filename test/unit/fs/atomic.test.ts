// The shared atomic-write helper: private modes, replace-or-nothing, and storage errors that name
// the operation and the path in words (the full-disk test on tmpfs needs root; these do not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError, storageError, writeFileAtomic } from '../../../electron/engine/fs/atomic.js';
import { tempDir } from '../../helpers/data.js';

test('writes private files in new private folders, replacing an existing file whole', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'a', 'b', 'x.bin');
  writeFileAtomic(out, [new Uint8Array([1, 2]), new Uint8Array([3])], { operation: 'test' });
  assert.deepEqual([...readFileSync(out)], [1, 2, 3]);
  writeFileAtomic(out, 'replaced', { operation: 'test' });
  assert.equal(readFileSync(out, 'utf8'), 'replaced');
  assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['x.bin']);
  if (process.platform !== 'win32') {
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o700);
  }
});

test('a failed write names the operation and the path and leaves nothing behind', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file'), 'x');
  assert.throws(
    () => writeFileAtomic(join(dir, 'file', 'out.dcm'), 'data', { operation: 'export rtstruct' }),
    (e: unknown) => e instanceof StorageError && e.code === 'storage' && /^export rtstruct: cannot write .*file/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), ['file']);
});

test('system and SQLite codes become words a planner can act on', () => {
  const err = (code: string): Error => Object.assign(new Error(`${code}: raw`), { code });
  assert.match(storageError('import', '/a/db.sqlite', err('ENOSPC')).message, /^import: cannot write \/a\/db\.sqlite: no space left on the disk; free some space and run it again/);
  assert.match(storageError('import', '/a/db.sqlite', err('SQLITE_FULL')).message, /no space left on the disk/);
  assert.match(storageError('export nifti', '/ro/x.nii', err('EROFS')).message, /^export nifti: cannot write \/ro\/x\.nii: the file system is read-only; choose a writable folder/);
  assert.match(storageError('export nifti', '/x.nii', err('EACCES')).message, /permission denied; choose a writable folder or fix its permissions/);
  assert.match(storageError('export nifti', '/x.nii', err('EDQUOT')).message, /quota is exhausted; free some space/);
});
