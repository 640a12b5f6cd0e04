// The audit trail's hash chain: entries edited, deleted or inserted with raw SQL are named by id
// and reason; the migration chains existing entries; `audit verify` and `audit export` on the CLI.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, migrate, schemaVersion, type Db } from '../../../electron/engine/store/db.js';
import { MIGRATIONS } from '../../../electron/engine/store/migrations/index.js';
import { m009AuditChain } from '../../../electron/engine/store/migrations/009_audit_chain.js';
import { recordAudit, auditExport, type AuditEntryInput } from '../../../electron/engine/audit/audit.js';
import { auditEntryHash, verifyAuditChain, GENESIS_HASH, type AuditChainRow } from '../../../electron/engine/audit/chain.js';
import { cliInProcess } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/data.js';

const ENTRIES: AuditEntryInput[] = [
  { actor: 'delineate', actorKind: 'algorithm', action: 'created', seriesUid: '1.2.1', templateSet: 'HN', structure: 'Brainstem', runId: 1, models: [{ name: 'm', sha256: 'ab'.repeat(32) }] },
  { actor: 'delineate', actorKind: 'algorithm', action: 'created', seriesUid: '1.2.1', templateSet: 'HN', structure: 'SpinalCord', runId: 1 },
  { actor: 'A. Physicist', actorKind: 'user', action: 'approved', seriesUid: '1.2.1', templateSet: 'HN', structure: 'Brainstem', detail: { comment: 'ok, "checked", twice\nline 2' } },
  { actor: 'A. Physicist', actorKind: 'user', action: 'rejected', seriesUid: '1.2.1', templateSet: 'HN', structure: 'SpinalCord' },
  { actor: 'delineate', actorKind: 'algorithm', action: 'created', seriesUid: '1.2.2', templateSet: 'HN', structure: 'Brainstem', runId: 2 },
  { actor: 'B. Planner', actorKind: 'user', action: 'approved', seriesUid: '1.2.2', templateSet: 'HN', structure: 'Brainstem' },
];

function seeded(t: TestContext): { db: Db; file: string } {
  const file = join(tempDir(t), 'db.sqlite');
  const db = openDatabase(file);
  t.after(() => db.close());
  for (const e of ENTRIES) recordAudit(db, e);
  return { db, file };
}

const row = (db: Db, id: number): AuditChainRow & { prev_hash: string; hash: string } => db.prepare('SELECT * FROM audit WHERE id = ?').get(id) as AuditChainRow & { prev_hash: string; hash: string };

test('an untouched trail verifies, and its head is the newest hash', (t) => {
  const { db } = seeded(t);
  const v = verifyAuditChain(db);
  assert.deepEqual(v, { ok: true, entries: 6, head: row(db, 6).hash });
  assert.equal(row(db, 1).prev_hash, GENESIS_HASH);
  assert.equal(row(db, 4).prev_hash, row(db, 3).hash);
  assert.deepEqual(verifyAuditChain(openDatabase(':memory:')), { ok: true, entries: 0, head: GENESIS_HASH });
});

test('an edited entry is named (each column, the timestamp and the id)', (t) => {
  const { db } = seeded(t);
  const edits = [
    [`UPDATE audit SET action = 'approved' WHERE id = 4`, 4],
    [`UPDATE audit SET actor = 'Somebody Else' WHERE id = 3`, 3],
    [`UPDATE audit SET at = '2020-01-01T00:00:00.000Z' WHERE id = 2`, 2],
    [`UPDATE audit SET detail_json = '{}' WHERE id = 3`, 3],
    [`UPDATE audit SET id = 60 WHERE id = 6`, 60],
  ] as const;
  for (const [sql, id] of edits) {
    const saved = db.prepare('SELECT * FROM audit').all() as Record<string, unknown>[];
    db.exec(sql);
    const v = verifyAuditChain(db);
    assert.equal(v.ok, false, sql);
    assert.deepEqual({ id: v.firstBroken?.id, reason: v.firstBroken?.reason }, { id, reason: 'edited' }, sql);
    db.exec('DELETE FROM audit');
    const ins = db.prepare(`INSERT INTO audit VALUES (${Object.keys(saved[0]!).map((k) => `@${k}`).join(', ')})`);
    for (const r of saved) ins.run(r);
    assert.equal(verifyAuditChain(db).ok, true);
  }
});

test('an entry rewritten together with its own hash is named by its successor', (t) => {
  const { db } = seeded(t);
  const r = { ...row(db, 3), actor: 'Somebody Else' };
  db.prepare('UPDATE audit SET actor = ?, hash = ? WHERE id = 3').run(r.actor, auditEntryHash(r.prev_hash, r));
  assert.deepEqual(pick(verifyAuditChain(db)), { id: 3, reason: 'edited' });
});

test('a deleted entry is named by the entry after it (also the first one)', (t) => {
  const { db } = seeded(t);
  db.exec('DELETE FROM audit WHERE id = 3');
  assert.deepEqual(pick(verifyAuditChain(db)), { id: 4, reason: 'deleted' });
  db.exec('DELETE FROM audit WHERE id IN (1, 2)');
  assert.deepEqual(pick(verifyAuditChain(db)), { id: 4, reason: 'deleted' });
  const v = verifyAuditChain(db);
  assert.equal(v.entries, 3);
  assert.match(v.firstBroken!.message, /before 4 .* was deleted/);
});

test('an entry inserted with raw SQL, or chained out of order, is named', (t) => {
  const { db } = seeded(t);
  db.exec(`INSERT INTO audit (actor, actor_kind, action, series_uid, structure) VALUES ('Mallory', 'user', 'approved', '1.2.1', 'SpinalCord')`);
  assert.deepEqual(pick(verifyAuditChain(db)), { id: 7, reason: 'inserted' });
  // Writing goes on after it (the chain continues from the entry as it stands), and verify keeps naming it.
  const id = recordAudit(db, ENTRIES[0]!);
  assert.equal(id, 8);
  assert.deepEqual(pick(verifyAuditChain(db)), { id: 7, reason: 'inserted' });
  db.exec('DELETE FROM audit WHERE id >= 7');
  assert.equal(verifyAuditChain(db).ok, true);
  // A forged entry with a correct hash, chained to entry 2 instead of the newest.
  const forged = { ...row(db, 4), id: 100, actor: 'Mallory' };
  db.prepare(`INSERT INTO audit (id, at, actor, actor_kind, action, series_uid, template_set, structure, run_id, localizer, segmenter, models_json, templates_json, detail_json, prev_hash, hash)
              VALUES (@id, @at, @actor, @actor_kind, @action, @series_uid, @template_set, @structure, @run_id, @localizer, @segmenter, @models_json, @templates_json, @detail_json, @prev_hash, @hash)`)
    .run({ ...forged, prev_hash: 'f'.repeat(64), hash: auditEntryHash('f'.repeat(64), forged) });
  assert.deepEqual(pick(verifyAuditChain(db)), { id: 100, reason: 'deleted' });
  db.exec('DELETE FROM audit WHERE id = 100');
  // An entry deleted and replaced by a forgery chained in its place: the replacement is named.
  const replaced = { ...row(db, 3), actor: 'Mallory' };
  db.exec('DELETE FROM audit WHERE id = 3');
  db.prepare(`INSERT INTO audit (id, at, actor, actor_kind, action, series_uid, template_set, structure, run_id, localizer, segmenter, models_json, templates_json, detail_json, prev_hash, hash)
              VALUES (@id, @at, @actor, @actor_kind, @action, @series_uid, @template_set, @structure, @run_id, @localizer, @segmenter, @models_json, @templates_json, @detail_json, @prev_hash, @hash)`)
    .run({ ...replaced, hash: auditEntryHash(replaced.prev_hash, replaced) });
  assert.deepEqual(pick(verifyAuditChain(db)), { id: 3, reason: 'edited' });
});

test('SQLite itself refuses a second entry chained to the same predecessor', (t) => {
  const { db } = seeded(t);
  const r = row(db, 4);
  assert.throws(() => db.prepare('INSERT INTO audit (actor, actor_kind, action, series_uid, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)').run('M', 'user', 'approved', '1.2.1', r.prev_hash, 'x'), /UNIQUE/);
});

test('two connections appending in turn keep one chain (exports are IMMEDIATE)', (t) => {
  const { db, file } = seeded(t);
  const other = openDatabase(file);
  t.after(() => other.close());
  for (let i = 0; i < 10; i++) {
    recordAudit(i % 2 ? db : other, ENTRIES[i % ENTRIES.length]!);
    auditExport(i % 2 ? other : db, { actor: 'X', seriesUid: '1.2.1', structures: ['Brainstem', 'SpinalCord'], target: '/tmp/x.dcm' });
  }
  assert.deepEqual(verifyAuditChain(db), { ok: true, entries: 36, head: row(db, 36).hash });
});

test(`migration ${m009AuditChain.version}: existing entries are chained in id order`, (t) => {
  const before = MIGRATIONS.indexOf(m009AuditChain);
  const db = openDatabase(join(tempDir(t), 'db.sqlite'), { targetVersion: before });
  t.after(() => db.close());
  assert.equal(schemaVersion(db), before);
  db.exec(`INSERT INTO audit (actor, actor_kind, action, series_uid, structure) VALUES ('delineate', 'algorithm', 'created', '1.2.3', 'Brainstem');
           INSERT INTO audit (actor, actor_kind, action, series_uid, structure, detail_json) VALUES ('A', 'user', 'approved', '1.2.3', 'Brainstem', '{"comment":"fine"}');
           INSERT INTO audit (id, actor, actor_kind, action, series_uid, structure) VALUES (7, 'A', 'user', 'exported', '1.2.3', 'Brainstem');`);
  migrate(db, m009AuditChain.version);
  assert.equal(schemaVersion(db), m009AuditChain.version);
  assert.deepEqual(verifyAuditChain(db), { ok: true, entries: 3, head: row(db, 7).hash });
  assert.equal(recordAudit(db, ENTRIES[2]!), 8);
  assert.equal(verifyAuditChain(db).ok, true);
  db.exec(`UPDATE audit SET detail_json = '{"comment":"bad"}' WHERE id = 2`);
  assert.deepEqual(pick(verifyAuditChain(db)), { id: 2, reason: 'edited' });
});

const cli = cliInProcess;

test('delineate audit verify: exit 0 and {ok, entries, head}; exit 1 naming the first broken entry', async (t) => {
  const { db, file } = seeded(t);
  const ok = await cli(['audit', 'verify', '--db', file, '--json']);
  assert.equal(ok.code, 0, ok.err);
  assert.deepEqual(JSON.parse(ok.out), { ok: true, entries: 6, head: row(db, 6).hash });
  db.exec('DELETE FROM audit WHERE id = 2');
  const bad = await cli(['audit', 'verify', '--db', file, '--json']);
  assert.equal(bad.code, 1);
  const doc = JSON.parse(bad.out) as { ok: boolean; entries: number; firstBroken: { id: number; reason: string } };
  assert.deepEqual([doc.ok, doc.entries, doc.firstBroken.id, doc.firstBroken.reason], [false, 5, 3, 'deleted']);
  assert.match(bad.err, /audit trail of .* is broken: the audit entry before 3/);
  const human = await cli(['audit', 'verify', '--db', file]);
  assert.equal(human.code, 1);
  assert.equal(human.out, '');
});

test('delineate audit export writes a series\' entries as CSV and JSON, privately and atomically', async (t) => {
  const { db, file } = seeded(t);
  const dir = tempDir(t);
  const csv = await cli(['audit', 'export', '--series', '1.2.1', '--format', 'csv', '--out', join(dir, 'a.csv'), '--db', file, '--json']);
  assert.equal(csv.code, 0, csv.err);
  const text = readFileSync(join(dir, 'a.csv'), 'utf8');
  const lines = text.split('\r\n');
  assert.equal(lines[0], 'id,at,actor,actorKind,action,seriesUid,templateSet,structure,runId,localizer,segmenter,models,templates,detail,prevHash,hash');
  // Header, 4 entries of 1.2.1, the final CRLF; the detail with quotes and commas is one quoted field.
  assert.equal(lines.length, 1 + 4 + 1);
  assert.ok(text.includes('"{""comment"":""ok, \\""checked\\"", twice\\nline 2""}"'), text);
  assert.ok(text.includes(row(db, 4).hash));
  if (process.platform !== 'win32') assert.equal(readFileSync(join(dir, 'a.csv')).length > 0 && (await import('node:fs')).statSync(join(dir, 'a.csv')).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['a.csv']);
  const json = await cli(['audit', 'export', '--series', '1.2.2', '--format', 'json', '--db', file]);
  assert.equal(json.code, 0, json.err);
  const doc = JSON.parse(json.out) as { seriesUid: string; verification: { ok: boolean }; entries: { id: number; actor: string; hash: string }[] };
  assert.deepEqual(doc.entries.map((e) => [e.id, e.actor, e.hash]), [[5, 'delineate', row(db, 5).hash], [6, 'B. Planner', row(db, 6).hash]]);
  assert.equal(doc.verification.ok, true);
  const badFormat = await cli(['audit', 'export', '--series', '1.2.2', '--format', 'xml', '--db', file]);
  assert.equal(badFormat.code, 2);
  const missing = await cli(['audit', 'export', '--series', '9.9', '--format', 'csv', '--db', file]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /series 9\.9 is not in the archive/);
});

function pick(v: ReturnType<typeof verifyAuditChain>): { id: number; reason: string } | undefined {
  return v.firstBroken ? { id: v.firstBroken.id, reason: v.firstBroken.reason } : undefined;
}
