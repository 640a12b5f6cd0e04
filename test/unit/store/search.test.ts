import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { API_METHODS } from '../../../electron/api-methods.js';
import { openDatabase } from '../../../electron/engine/store/db.js';
import { searchSeries } from '../../../electron/engine/store/search.js';
import { tempDir } from '../../helpers/data.js';
import { writeSyntheticArchive } from '../../helpers/synthetic-archive.js';

test('series search: filters, paging and per-series RTSTRUCT / result counts agree with what was written', (t) => {
  const db = openDatabase(join(tempDir(t), 'db.sqlite'));
  t.after(() => db.close());
  const { facts } = writeSyntheticArchive(db, 120);

  const all = searchSeries(db, {});
  assert.equal(all.total, 120);
  assert.equal(all.series.length, 50, 'default page size');
  const pages = [0, 50, 100].flatMap((offset) => searchSeries(db, { offset, limit: 50 }).series.map((s) => s.seriesUid));
  assert.equal(new Set(pages).size, 120, 'pages cover every series once');

  const check = (req: Parameters<typeof searchSeries>[1], expect: (f: (typeof facts)[number]) => boolean, what: string): void => {
    const r = searchSeries(db, { ...req, limit: 200 });
    const want = facts.filter(expect).map((f) => f.uid).sort();
    assert.deepEqual(r.series.map((s) => s.seriesUid).sort(), want, what);
    assert.equal(r.total, want.length, `${what}: total`);
  };
  check({ modality: 'MR' }, (f) => f.modality === 'MR', 'modality');
  check({ text: 'SYN00003' }, (f) => f.patientId === 'SYN00003', 'patient id');
  check({ text: 'patient7' }, (f) => f.patientId === 'SYN00007', 'patient name, case-insensitive');
  check({ dateFrom: '20150101', dateTo: '20191231' }, (f) => f.date >= '20150101' && f.date <= '20191231', 'study date range');
  check({ runState: 'none' }, (f) => f.run === 'none', 'never run');
  check({ runState: 'failed' }, (f) => f.run === 'failed', 'run failed');
  for (const review of ['none', 'pending', 'approved', 'rejected'] as const) check({ reviewState: review }, (f) => f.review === review, `review ${review}`);
  check({ modality: 'CT', reviewState: 'pending', text: 'SYN0000' }, (f) => f.modality === 'CT' && f.review === 'pending' && f.patientId.startsWith('SYN0000'), 'combined');
  check({ text: '%' }, () => false, 'a typed % is a literal, not a wildcard');

  const withRs = searchSeries(db, { limit: 200 }).series.filter((s) => s.rtstructs > 0).map((s) => s.seriesUid).sort();
  assert.deepEqual(withRs, facts.filter((f) => f.rtstruct).map((f) => f.uid).sort(), 'RTSTRUCTs referencing the series');
  const approved = searchSeries(db, { reviewState: 'approved', limit: 1 }).series[0]!;
  assert.deepEqual(approved.results, { total: 3, pending: 0, approved: 3, rejected: 0 });
  assert.equal(approved.runState, 'done');

  assert.throws(() => searchSeries(db, { dateFrom: '2015-01-01' }), /'dateFrom' must be a DICOM date YYYYMMDD/);
  assert.throws(() => API_METHODS.searchSeries({ runState: 'maybe' }), /'runState' must be one of/);
});
