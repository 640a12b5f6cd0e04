/**
 * The study database: one SQLite file (better-sqlite3 12; 13 needs Node 22). WAL so that readers
 * (the UI) never block the batch writer; `synchronous` is set explicitly on every open because a
 * reopened WAL database silently reads NORMAL. Schema changes are numbered migrations keyed on
 * `PRAGMA user_version`, each applied in its own transaction.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DelineateError } from '../errors.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE, storageError, storageReason } from '../fs/atomic.js';
import { MIGRATIONS } from './migrations/index.js';
import { backupDatabaseSync } from './backup.js';
import { damagedDatabase, inspectDatabaseFile, isCorruption, markSessionClosed, markSessionOpen, quickCheck } from './health.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** FULL survives power loss at the cost of an fsync per commit; NORMAL survives process crashes. */
  synchronous?: 'NORMAL' | 'FULL';
  /** Stop after this migration (tests migrate to N-1, insert, then to N). */
  targetVersion?: number;
  readonly?: boolean;
  /**
   * 'header' (default): the file checks of health.ts before opening. 'quick': also PRAGMA
   * quick_check after opening (the CLI and the app's service, once per process).
   */
  check?: 'header' | 'quick';
}

/**
 * Opens (and migrates) the database. A damaged file throws DamagedDatabaseError naming the last
 * good backup; nothing is created, migrated or written in that case.
 */
export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  const onDisk = file !== ':memory:' && file !== '';
  const writable = !opts.readonly;
  if (onDisk) {
    if (writable) ensurePrivateDir(dirname(file), 'open database');
    const problem = inspectDatabaseFile(file);
    if (problem !== undefined) throw damagedDatabase(file, problem);
    if (writable) privateFile(file);
  }
  let db: Db;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (cause) {
    if (isCorruption(cause)) throw damagedDatabase(file, (cause as Error).message, cause);
    if (storageReason(cause) !== undefined) throw storageError('open database', file, cause);
    throw new DelineateError('bad-input', `cannot open database ${file}: ${(cause as Error).message}`, { file }, { cause });
  }
  try {
    db.pragma('busy_timeout = 30000'); // three processes may write at once (service, CLI run, DICOM node)
    if (writable) db.pragma('journal_mode = WAL');
    if (onDisk && writable) {
      // The marker goes down only once the -wal exists (a read transaction opens it): a process
      // killed in between must not leave a marker without a -wal, which reads as a lost log.
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      try {
        if (existsSync(`${file}-wal`)) markSessionOpen(file);
      } catch (cause) {
        throw storageError('open database', file, cause);
      }
    }
    db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    if (opts.check === 'quick') {
      const problems = quickCheck(db);
      if (problems.length > 0) throw damagedDatabase(file, `quick_check found ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` and ${problems.length - 3} more` : ''}`);
    }
    if (writable) migrate(db, opts.targetVersion);
  } catch (e) {
    db.close();
    if (onDisk && writable) markSessionClosed(file);
    if (isCorruption(e)) throw damagedDatabase(file, (e as Error).message, e);
    throw e;
  }
  if (onDisk && writable) {
    const close = db.close.bind(db);
    (db as { close: () => Db }).close = () => {
      close();
      markSessionClosed(file);
      return db;
    };
  }
  return db;
}

/**
 * Creates the file private to the user before SQLite does (SQLite gives the -wal and -shm files the
 * database file's permissions), and takes group and other access from one created by an older
 * version.
 */
function privateFile(file: string): void {
  if (process.platform === 'win32') return;
  try {
    if (!existsSync(file)) closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
    else {
      const st = statSync(file);
      if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(file, PRIVATE_FILE_MODE);
    }
  } catch (cause) {
    throw storageError('open database', file, cause);
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function latestVersion(): number {
  return MIGRATIONS.length;
}

/** Applies every migration above the stored user_version, up to `target` (default: all). */
export function migrate(db: Db, target = MIGRATIONS.length): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new DelineateError(
      'conflict',
      `database ${db.name} has schema version ${current}, newer than this application (${MIGRATIONS.length}); refusing to touch it`,
      { file: db.name },
    );
  }
  // A database with data that is about to change schema is backed up first (backup.ts), so a
  // failed or faulty upgrade can be undone with `delineate db restore`.
  const pending = MIGRATIONS.some((m) => m.version > current && m.version <= target);
  if (pending && current > 0 && db.name !== ':memory:' && db.name !== '') backupDatabaseSync(db, db.name, 'migration', { tag: `v${current}` });
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
