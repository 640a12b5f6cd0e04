// export seg: a DICOM Segmentation that dciodvfy accepts without errors, that pydicom decodes to
// the same voxel counts, and that reads back onto the series grid with Dice 1.0 per segment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../../helpers/data.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { getSeriesGeometry } from '../../../electron/engine/store/archive.js';
import { getResultMask, getResults, setReviewState, upsertSegmentation } from '../../../electron/engine/store/results.js';
import { exportResultsSeg } from '../../../electron/engine/seg/export.js';
import { readSeg } from '../../../electron/engine/seg/read.js';
import { evaluateSeries } from '../../../electron/engine/eval/evaluate-series.js';
import { makeBatchArchive, STRUCTURES, TEMPLATE_SET } from '../jobs/archive.js';

function blob(g: { dims: [number, number, number] }, seed: number): Uint8Array {
  const [nx, ny, nz] = g.dims;
  const m = new Uint8Array(nx * ny * nz);
  // An ellipsoid with holes: frames with islands, odd bit offsets, slices left empty.
  for (let k = 2 + seed; k < nz - 3; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const d = ((i - nx / 2 - seed * 3) / 11) ** 2 + ((j - ny / 2) / 8) ** 2 + ((k - nz / 2) / 8) ** 2;
        if (d < 1 && (i * 7 + j * 3 + k + seed) % 13 !== 0) m[i + nx * (j + ny * k)] = 1;
      }
    }
  }
  return m;
}

function dice(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let p = 0; p < a.length; p++) {
    sa += a[p]!;
    sb += b[p]!;
    inter += a[p]! & b[p]!;
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}

test('export seg: dciodvfy-clean, pydicom decodes it, re-import gives Dice 1.0 per segment; approved-only honoured', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const archive = await makeBatchArchive(join(dir, 'archive'), { count: 1 });
  const db = openDatabase(archive.dbFile);
  t.after(() => db.close());
  const uid = archive.series[0]!;
  const g = getSeriesGeometry(db, uid);
  upsertSegmentation(db, {
    seriesUid: uid,
    templateSet: TEMPLATE_SET,
    segmenter: 'test',
    models: [],
    structures: STRUCTURES.map((name, s) => ({ name, mask: blob(g, s), voxels: 0, volumeCc: 0 })),
  });
  const out = join(dir, 'seg.dcm');
  const written = exportResultsSeg(db, uid, out, { actor: 'tester' });
  assert.deepEqual(written.segments.map((s) => s.name), [...STRUCTURES].sort());

  const check = spawnSync('dciodvfy', ['-new', out], { encoding: 'utf8' });
  if (check.error) t.diagnostic('dciodvfy not installed (Debian: dicom3tools): IOD check skipped');
  else {
    const errors = check.stderr.split('\n').filter((l) => l.startsWith('Error'));
    assert.deepEqual(errors, [], check.stderr);
    assert.equal(check.status, 0);
  }

  const back = readSeg(out, g);
  assert.equal(back.referencedSeriesUid, uid);
  const stored = new Map(getResults(db, uid, TEMPLATE_SET).map((r) => [r.structure, getResultMask(db, r.id)!]));
  assert.equal(back.segments.length, STRUCTURES.length);
  let total = 0;
  for (const s of back.segments) {
    const want = stored.get(s.label)!;
    assert.ok(want, `segment ${s.label} is a stored structure`);
    assert.equal(dice(s.mask, want), 1, `Dice of ${s.label}`);
    assert.deepEqual(s.mask, want);
    total += want.reduce((a, v) => a + v, 0);
  }
  // The same through `delineate eval --reference seg.dcm`: the SEG against the stored results.
  const ev = evaluateSeries(db, { seriesUid: uid, referenceFile: out, templateSet: TEMPLATE_SET });
  assert.deepEqual(ev.structures.map((s) => [s.name, s.dice]), [...STRUCTURES].sort().map((n) => [n, 1]));
  const py = spawnSync('/usr/bin/python3', ['-c', 'import sys, pydicom; d = pydicom.dcmread(sys.argv[1]); a = d.pixel_array; print(int(d.NumberOfFrames), int(a.sum()))', out], { encoding: 'utf8' });
  if (py.status === 0) assert.equal(py.stdout.trim(), `${written.segments.reduce((a, s) => a + s.frames, 0)} ${total}`);
  else t.diagnostic(`pydicom check skipped: ${py.stderr.trim().split('\n').pop() ?? ''}`);

  // Approved only: one structure approved, one rejected (never exported), one pending.
  const rows = getResults(db, uid, TEMPLATE_SET);
  setReviewState(db, rows[0]!.id, 'approved', 'jdoe');
  setReviewState(db, rows[1]!.id, 'rejected', 'jdoe');
  const approved = exportResultsSeg(db, uid, join(dir, 'approved.dcm'), { approvedOnly: true });
  assert.deepEqual(approved.segments.map((s) => s.name), [rows[0]!.structure]);
  const nonRejected = exportResultsSeg(db, uid, join(dir, 'all.dcm'));
  assert.deepEqual(nonRejected.segments.map((s) => s.name), [rows[0]!.structure, rows[2]!.structure]);
  const logged = db.prepare(`SELECT count(*) AS n FROM exports WHERE kind = 'seg'`).get() as { n: number };
  assert.equal(logged.n, 3);
});
