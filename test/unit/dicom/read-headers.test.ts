/**
 * Import headers read on the decode pool's workers equal those read on the importing thread, file for
 * file and in order, for images, an RT object, a file that is not DICOM, a truncated one and one that
 * vanished after the scan (a skip naming it, not a rejection). On the workers, an abort mid-batch
 * rejects both readHeaders and decodeSlices with CancelledError (the slice one naming the series), and
 * an error thrown by onSlice rejects decodeSlices with that error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError } from '../../../electron/engine/errors.js';
import { decodeSlices, readHeaders, type FileToRead } from '../../../electron/engine/dicom/decode-pool.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { writeRtstructFor } from '../../fixtures/phantom/variants.js';
import { tempDir } from '../../helpers/data.js';

test('headers from worker threads equal headers read inline, in file order', async (t) => {
  const dir = tempDir(t);
  const ph = writePhantomSeries(join(dir, 'ct'), { seed: 'read-headers', slices: 12, columns: 24, rows: 20 });
  const rt = join(dir, 'rt.dcm');
  writeRtstructFor(ph, rt);
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a DICOM file at all\n');
  const cut = join(dir, 'cut.dcm');
  copyFileSync(ph.files[3]!.path, cut);
  truncateSync(cut, 700);
  const paths = [...ph.files.map((f) => f.path), rt, text, cut];
  const files: FileToRead[] = paths.map((path) => {
    const st = statSync(path);
    return { path, size: st.size, mtimeMs: st.mtimeMs };
  });
  files.push({ path: join(dir, 'gone.dcm'), size: 1000, mtimeMs: 0 });
  let ticks = 0;
  const pooled = await readHeaders(files, () => ticks++, { workers: 2 });
  const inline = await readHeaders(files, () => undefined, { workers: 0 });
  assert.equal(ticks, files.length);
  assert.deepEqual(pooled, inline);
  assert.deepEqual(pooled.map((h) => h.path), files.map((f) => f.path));
  assert.deepEqual(pooled.map((h) => h.kind), [...ph.files.map(() => 'image'), 'object', 'skip', 'skip', 'skip']);
  for (const h of pooled.slice(-3)) assert.ok(h.kind === 'skip' && h.reason.includes(h.path), JSON.stringify(h));
});

test('an abort mid-batch on the workers rejects with CancelledError; an onSlice error rejects with it', async (t) => {
  const dir = tempDir(t);
  const ph = writePhantomSeries(join(dir, 'ct'), { seed: 'read-headers-abort', slices: 12, columns: 24, rows: 20 });
  const paths = ph.files.map((f) => f.path);
  const files: FileToRead[] = paths.map((path) => {
    const st = statSync(path);
    return { path, size: st.size, mtimeMs: st.mtimeMs };
  });
  const headers = new AbortController();
  let read = 0;
  await assert.rejects(
    readHeaders(files, () => { if (++read === 3) headers.abort(); }, { workers: 2, signal: headers.signal }),
    CancelledError,
  );
  assert.equal(read, 3, 'replies after the abort are dropped');
  const slices = new AbortController();
  let decoded = 0;
  const layout = { rows: 20, columns: 24 };
  await assert.rejects(
    decodeSlices(paths, layout, () => { if (++decoded === 3) slices.abort(); }, { workers: 2, signal: slices.signal, seriesUid: ph.seriesUid }),
    (e: Error) => e instanceof CancelledError && e.message.includes(ph.seriesUid),
  );
  assert.equal(decoded, 3, 'slices after the abort are dropped');
  await assert.rejects(
    decodeSlices(paths, layout, () => { throw new Error('consumer failed'); }, { workers: 2 }),
    /consumer failed/,
  );
  // The pool still serves a batch after those.
  let all = 0;
  await decodeSlices(paths, layout, () => all++, { workers: 2 });
  assert.equal(all, paths.length);
});
