import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { migrate, openDatabase, schemaVersion } from '../../../electron/engine/store/db.js';
import { DbSupportCache, MemorySupportCache } from '../../../electron/engine/localize/support-cache.js';
import { decodeSupport, encodeSupport, type SupportFeatures } from '../../../electron/engine/localize/support.js';
import { tempDir } from '../../helpers/data.js';

function sample(): SupportFeatures {
  return {
    rows: 6,
    parts: 1,
    templates: 2,
    channels: 2,
    kernelSizes: [2, 4, 8],
    fc: Float32Array.from({ length: 18 }, (_, i) => i / 7),
    kernels: [2, 4, 8].map((k) => Float32Array.from({ length: 6 * 2 * k * k * k }, (_, i) => Math.sin(i))),
  };
}

test('support features survive the binary cache form bit for bit', () => {
  const s = sample();
  const d = decodeSupport(encodeSupport(s));
  assert.deepEqual({ ...d, fc: [...d.fc], kernels: d.kernels.map((k) => [...k]) }, { ...s, fc: [...s.fc], kernels: s.kernels.map((k) => [...k]) });
});

test('migration 2 -> 3 keeps template sets and adds the support cache keyed by set, structure, model hash and mode', (t) => {
  const db = openDatabase(join(tempDir(t), 'db.sqlite'), { targetVersion: 2 });
  db.prepare(`INSERT INTO template_sets (name) VALUES ('HN')`).run();
  migrate(db, 3);
  assert.equal(schemaVersion(db) >= 3, true);
  const cache = new DbSupportCache(db);
  const key = { templateSet: 'HN', structure: 'Brainstem', modelHash: 'abc', mode: 'wpl' as const, templatesHash: 'h1' };
  assert.equal(cache.get(key), undefined);
  cache.put(key, sample());
  assert.equal(cache.get(key)?.rows, 6);
  // A changed template (other hash), another model or another mode never reads the stored entry.
  assert.equal(cache.get({ ...key, templatesHash: 'h2' }), undefined);
  assert.equal(cache.get({ ...key, modelHash: 'def' }), undefined);
  assert.equal(cache.get({ ...key, mode: 'spl' }), undefined);
  cache.put({ ...key, templatesHash: 'h2' }, { ...sample(), rows: 12, parts: 2 });
  assert.equal(cache.get({ ...key, templatesHash: 'h2' })?.rows, 12);
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM support_features').get(), { n: 1 });
  // Deleting the set removes its cache.
  db.prepare(`DELETE FROM template_sets WHERE name = 'HN'`).run();
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM support_features').get(), { n: 0 });
  // Sets that are not stored are simply not cached.
  cache.put({ ...key, templateSet: 'none' }, sample());
  assert.equal(cache.get({ ...key, templateSet: 'none' }), undefined);
  db.close();
});

test('the memory cache keys on every field', () => {
  const c = new MemorySupportCache();
  const key = { templateSet: 'A', structure: 'B', modelHash: 'm', mode: 'spl' as const, templatesHash: 'h' };
  c.put(key, sample());
  assert.ok(c.get(key));
  assert.equal(c.get({ ...key, structure: 'C' }), undefined);
});
