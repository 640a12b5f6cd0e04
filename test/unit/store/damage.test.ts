// A damaged database (truncated, a garbage page, a lost -wal, an emptied file) is reported as
// damaged with its last good backup, never replaced by an empty archive; backups are taken before a
// migration and rotated; `db check` and `db restore` on the CLI.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, openSync, readdirSync, rmSync, statSync, truncateSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, schemaVersion, latestVersion, type Db } from '../../../electron/engine/store/db.js';
import { MIGRATIONS } from '../../../electron/engine/store/migrations/index.js';
import { m009AuditChain } from '../../../electron/engine/store/migrations/009_audit_chain.js';
import { backupDatabase, backupsDir, BACKUPS_KEPT, dailyBackupDue, lastGoodBackup, listBackups } from '../../../electron/engine/store/backup.js';
import { DamagedDatabaseError, sessionMarker } from '../../../electron/engine/store/health.js';
import { recordAudit } from '../../../electron/engine/audit/audit.js';
import { cliInProcess } from '../../helpers/cli.js';
import { REPO_ROOT, tempDir } from '../../helpers/data.js';

const ENTRIES = 400;

function fill(db: Db, from = 0, n = ENTRIES): void {
  db.transaction(() => {
    for (let i = from; i < from + n; i++) recordAudit(db, { actor: `reviewer ${i}`, actorKind: 'user', action: 'approved', seriesUid: `1.2.${i}`, structure: 'Brainstem', detail: { comment: 'x'.repeat(200) } });
  })();
}

/** A database with data at the previous schema version, upgraded once (so a migration backup exists). */
function archive(t: TestContext): string {
  const file = join(tempDir(t), 'delineate.sqlite');
  const old = openDatabase(file, { targetVersion: MIGRATIONS.indexOf(m009AuditChain) });
  old.exec(`INSERT INTO audit (actor, actor_kind, action, series_uid) VALUES ('A', 'user', 'approved', '1.2.0')`);
  old.close();
  const db = openDatabase(file);
  fill(db);
  db.close();
  return file;
}

const count = (file: string): number => {
  const db = openDatabase(file);
  try {
    return Number(db.prepare('SELECT count(*) FROM audit').pluck().get());
  } finally {
    db.close();
  }
};

const cli = cliInProcess;

test('a migration is preceded by a backup that holds the data as it was, and only then', (t) => {
  const file = archive(t);
  const backups = listBackups(file);
  assert.equal(backups.length, 1);
  assert.equal(backups[0]!.reason, 'migration');
  assert.match(backups[0]!.file, new RegExp(`-v${MIGRATIONS.indexOf(m009AuditChain)}\\.sqlite$`));
  assert.equal(lastGoodBackup(file)?.file, backups[0]!.file);
  const b = openDatabase(backups[0]!.file, { readonly: true });
  assert.equal(schemaVersion(b), MIGRATIONS.indexOf(m009AuditChain));
  assert.equal(b.prepare('SELECT count(*) FROM audit').pluck().get(), 1);
  b.close();
  if (process.platform !== 'win32') {
    assert.equal(statSync(backups[0]!.file).mode & 0o777, 0o600);
    assert.equal(statSync(backupsDir(file)).mode & 0o777, 0o700);
  }
  // Reopening an up-to-date database takes no backup; a fresh one neither.
  openDatabase(file).close();
  openDatabase(join(tempDir(t), 'fresh.sqlite')).close();
  assert.equal(listBackups(file).length, 1);
  assert.deepEqual(readdirSync(backupsDir(file)).filter((f) => f.endsWith('.partial')), []);
});

test('a truncated database is reported as damaged with its backup, and left as it is', async (t) => {
  const file = archive(t);
  const size = statSync(file).size;
  truncateSync(file, Math.floor(size / 2) - 100);
  assert.throws(() => openDatabase(file), (e: unknown) => e instanceof DamagedDatabaseError && /truncated/.test(e.message) && e.message.includes(listBackups(file)[0]!.file) && /delineate db restore/.test(e.message));
  assert.equal(statSync(file).size, Math.floor(size / 2) - 100, 'never rewritten by the failed open');
  // A whole number of pages, but fewer than the header counts. (Measured after this cut: rounding
  // down to a page can land above the first cut, which truncate would extend.)
  truncateSync(file, 4096 * Math.floor(size / 2 / 4096));
  const before = statSync(file).size;
  assert.throws(() => openDatabase(file), /damaged: the file holds \d+ pages but its header counts \d+ \(truncated\)/);
  assert.ok(statSync(file).size <= before, 'never rewritten');
  const r = await cli(['series', 'list', '--db', file, '--json']);
  assert.equal(r.code, 1);
  assert.match(r.err, /database .* is damaged: .*truncated.*The last good backup is .*-migration-v\d+\.sqlite/);
  assert.equal(r.out, '');
});

test('a garbage page is found by the quick check on open and by db check; db restore brings the backup back', async (t) => {
  const file = archive(t);
  const pageSize = 4096;
  const fd = openSync(file, 'r+');
  const junk = Buffer.alloc(pageSize);
  for (let i = 0; i < pageSize; i++) junk[i] = (i * 131 + 7) & 0xff;
  writeSync(fd, junk, 0, pageSize, pageSize * 5);
  closeSync(fd);
  assert.throws(() => openDatabase(file, { check: 'quick' }), (e: unknown) => e instanceof DamagedDatabaseError && /quick_check found|malformed/.test(e.message));
  const check = await cli(['db', 'check', '--db', file, '--json']);
  assert.equal(check.code, 1);
  const doc = JSON.parse(check.out) as { ok: boolean; integrity: string[]; lastGoodBackup?: string };
  assert.equal(doc.ok, false);
  assert.notDeepEqual(doc.integrity, ['ok']);
  assert.equal(doc.lastGoodBackup, listBackups(file)[0]!.file);
  const restore = await cli(['db', 'restore', '--db', file, '--json']);
  assert.equal(restore.code, 0, restore.err);
  const r = JSON.parse(restore.out) as { restored: string; from: string; movedAside: string[] };
  assert.equal(r.from, doc.lastGoodBackup);
  assert.ok(r.movedAside.some((f) => /\.damaged-\d{8}T\d{6}Z$/.test(f) && existsSync(f)), 'the damaged file is kept');
  // The backup predates the upgrade: it migrates again on open and holds the data of then.
  assert.equal(count(file), 1);
  const ok = await cli(['db', 'check', '--db', file, '--json']);
  assert.equal(ok.code, 0, ok.err);
  assert.equal((JSON.parse(ok.out) as { ok: boolean }).ok, true);
});

test('a lost -wal after a killed session is reported, never read as the older archive', async (t) => {
  const file = archive(t);
  // A writer killed with SIGKILL: its last transactions live only in the -wal.
  const script = `import { openDatabase } from './electron/engine/store/db.ts';
    import { recordAudit } from './electron/engine/audit/audit.ts';
    const db = openDatabase(${JSON.stringify(file)});
    recordAudit(db, { actor: 'late', actorKind: 'user', action: 'approved', seriesUid: '9.9' });
    process.kill(process.pid, 'SIGKILL');`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  assert.ok(existsSync(`${file}-wal`) && existsSync(sessionMarker(file)));
  rmSync(`${file}-wal`);
  rmSync(`${file}-shm`, { force: true });
  assert.throws(() => openDatabase(file), (e: unknown) => e instanceof DamagedDatabaseError && /write-ahead log .*-wal is missing/.test(e.message));
  const check = await cli(['db', 'check', '--db', file, '--json']);
  assert.equal(check.code, 1);
  assert.match((JSON.parse(check.out) as { fileProblem: string }).fileProblem, /write-ahead log/);
  assert.throws(() => openDatabase(file), DamagedDatabaseError, 'db check does not clear the finding');
  // With the -wal in place, a killed session recovers as SQLite promises.
  const file2 = archive(t);
  spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script.replace(JSON.stringify(file), JSON.stringify(file2))], { cwd: REPO_ROOT });
  assert.equal(count(file2), ENTRIES + 2);
  assert.ok(!existsSync(sessionMarker(file2)), 'a clean close removes the session marker');
});

test('an emptied or deleted database file with backups is damaged, not a new archive', (t) => {
  const file = archive(t);
  truncateSync(file, 0);
  assert.throws(() => openDatabase(file), /database file is empty although 1 backup of it exists/);
  assert.equal(statSync(file).size, 0);
  rmSync(file);
  assert.throws(() => openDatabase(file), /database file is missing although 1 backup of it exists/);
  assert.ok(!existsSync(file));
});

test('daily backups: due after a day, online, rotated to the newest seven', async (t) => {
  const file = join(tempDir(t), 'delineate.sqlite');
  const db = openDatabase(file);
  t.after(() => db.close());
  fill(db, 0, 50);
  assert.equal(dailyBackupDue(file), true);
  const day = 24 * 3600 * 1000;
  const t0 = Date.parse('2026-01-01T08:00:00Z');
  for (let d = 0; d < BACKUPS_KEPT.daily + 3; d++) await backupDatabase(db, file, 'daily', { now: new Date(t0 + d * day) });
  const kept = listBackups(file);
  assert.equal(kept.length, BACKUPS_KEPT.daily);
  assert.equal(kept[0]!.at, new Date(t0 + (BACKUPS_KEPT.daily + 2) * day).toISOString().replace(/\.\d+Z$/, 'Z'));
  assert.equal(dailyBackupDue(file, new Date(t0 + (BACKUPS_KEPT.daily + 2) * day + 3600_000)), false);
  assert.equal(dailyBackupDue(file, new Date(t0 + (BACKUPS_KEPT.daily + 3) * day)), true);
  const b = openDatabase(kept[0]!.file, { readonly: true });
  assert.equal(b.prepare('SELECT count(*) FROM audit').pluck().get(), 50);
  assert.equal(schemaVersion(b), latestVersion());
  b.close();
  const manual = await cli(['db', 'backup', '--db', file, '--json']);
  assert.equal(manual.code, 0, manual.err);
  assert.match((JSON.parse(manual.out) as { backup: string }).backup, /-manual\.sqlite$/);
});
