/**
 * Series whose geometry or values are nonsense are refused or flagged with their reason, never
 * loaded silently: RescaleSlope 0 or NaN, a gap more than 5x the median slice step, slices of
 * another orientation mixed in, two images at one position.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { importPaths } from '../../../electron/engine/dicom/import.js';
import { listSeries } from '../../../electron/engine/store/archive.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { writePhantomSeries } from '../../fixtures/phantom/phantom.js';
import { tempDir } from '../../helpers/data.js';

const small = { columns: 16, rows: 16 } as const;

test('RescaleSlope 0 or NaN: every file skipped with the reason, no series stored', async (t) => {
  for (const slope of ['0', 'NaN']) {
    const dir = tempDir(t);
    writePhantomSeries(join(dir, 'ct'), { ...small, seed: `slope-${slope}`, slices: 4, extra: { RescaleSlope: slope } });
    const db = openDatabase(':memory:');
    const r = await importPaths(db, [dir]);
    assert.equal(r.series.length, 0);
    assert.equal(r.skipped.length, 4);
    for (const s of r.skipped) assert.match(s.reason, /RescaleSlope \(0028,1053\).*not a usable modality LUT.*ct0/);
    assert.deepEqual(listSeries(db), []);
  }
});

test('a gap of more than 5x the median step refuses the series, naming the gap; 2x still loads with a warning', async (t) => {
  const dir = tempDir(t);
  writePhantomSeries(join(dir, 'big'), { ...small, seed: 'big-gap', slices: 14, dropSlices: [4, 5, 6, 7, 8, 9] });
  writePhantomSeries(join(dir, 'ok'), { ...small, seed: 'small-gap', slices: 10, dropSlices: [4] });
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [dir]);
  assert.equal(r.series.length, 1, 'only the 2x-gap series loads');
  assert.ok(r.warnings.some((w) => /non-uniform slice spacing/.test(w.message)));
  const big = r.skipped.filter((s) => s.path.includes('/big/'));
  assert.equal(big.length, 8);
  for (const s of big) assert.match(s.reason, /gap of 21\.00 mm after slice 3 .* more than 5x the median slice step of 3\.00 mm.*refused/);
});

test('mixed orientations: the minority slices are dropped with the reason; duplicated positions refuse the series', async (t) => {
  const dir = tempDir(t);
  const main = writePhantomSeries(join(dir, 'main'), { ...small, seed: 'mixed', slices: 6 });
  // Two sagittal images in the same series (a localizer mixed in).
  writePhantomSeries(join(dir, 'loc'), {
    ...small, seed: 'mixed-loc', slices: 2, prefix: 'loc', orientation: [0, 1, 0, 0, 0, -1],
    seriesUid: main.seriesUid, studyUid: main.studyUid, frameOfReferenceUid: main.frameOfReferenceUid,
  });
  // A second copy of every position under other SOP UIDs and no phase attribute to split them by.
  const dup = writePhantomSeries(join(dir, 'dup1'), { ...small, seed: 'dup', slices: 3 });
  writePhantomSeries(join(dir, 'dup2'), {
    ...small, seed: 'dup-copy', slices: 3, prefix: 'copy',
    seriesUid: dup.seriesUid, studyUid: dup.studyUid, frameOfReferenceUid: dup.frameOfReferenceUid,
  });
  const db = openDatabase(':memory:');
  const r = await importPaths(db, [dir]);
  assert.deepEqual(r.series.map((s) => s.seriesUid), [main.seriesUid]);
  assert.equal(r.series[0]!.dims[2], 6);
  const loc = r.skipped.filter((s) => s.path.includes('/loc/'));
  assert.equal(loc.length, 2);
  for (const s of loc) assert.match(s.reason, /different orientation or matrix than the other 6 slices/);
  const dups = r.skipped.filter((s) => s.path.includes('/dup'));
  assert.equal(dups.length, 6);
  for (const s of dups) assert.match(s.reason, /slice position\(s\) hold more than one image.*refused/);
});
