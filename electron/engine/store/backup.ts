/**
 * Backups of the study database: SQLite online backups into `backups/` beside it, taken before every
 * migration (VACUUM INTO: synchronous, inside openDatabase) and once a day while the app's service
 * runs (better-sqlite3's backup API, page by page so the service keeps answering), rotated. Each
 * backup is written under a temporary name, switched to rollback-journal mode (one self-contained
 * file), fsynced and renamed into place, so a backup listed here is always complete.
 *
 * The backups folder sits on the same disk as the database: it protects against a damaged file or a
 * failed upgrade, not against losing the disk. Copying it elsewhere is the clinic's backup policy.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ensurePrivateDir, fsyncDir, PRIVATE_FILE_MODE, storageError } from '../fs/atomic.js';
import type { Db } from './db.js';

export type BackupReason = 'migration' | 'daily' | 'manual';

export interface BackupInfo {
  file: string;
  /** When it was taken (from its name: UTC, to the second). */
  at: string;
  reason: BackupReason;
}

/** How many of each kind are kept (newest first). */
export const BACKUPS_KEPT: Record<BackupReason, number> = { migration: 3, daily: 7, manual: 5 };
const DAY_MS = 24 * 3600 * 1000;

export function backupsDir(dbFile: string): string {
  return join(dirname(dbFile), 'backups');
}

function stem(dbFile: string): string {
  return basename(dbFile).replace(/\.(sqlite3?|db)$/i, '');
}

const NAME = /^(.+)-(\d{8}T\d{6}Z)-(migration|daily|manual)(?:-[a-z0-9]+)?\.sqlite$/;

/** Backups of this database, newest first. */
export function listBackups(dbFile: string): BackupInfo[] {
  const dir = backupsDir(dbFile);
  if (!existsSync(dir)) return [];
  const own = stem(dbFile);
  const out: BackupInfo[] = [];
  for (const name of readdirSync(dir)) {
    const m = NAME.exec(name);
    if (!m || m[1] !== own) continue;
    const t = m[2]!;
    out.push({ file: join(dir, name), at: `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`, reason: m[3] as BackupReason });
  }
  return out.sort((a, b) => (a.at === b.at ? b.file.localeCompare(a.file) : b.at.localeCompare(a.at)));
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function target(dbFile: string, reason: BackupReason, now: Date, tag?: string): string {
  return join(backupsDir(dbFile), `${stem(dbFile)}-${stamp(now)}-${reason}${tag ? `-${tag}` : ''}.sqlite`);
}

/** Makes a freshly written backup one durable, self-contained, private file and moves it into place. */
function seal(tmp: string, out: string): void {
  const b = new Database(tmp);
  try {
    b.pragma('journal_mode = DELETE');
  } finally {
    b.close();
  }
  if (process.platform !== 'win32') chmodSync(tmp, PRIVATE_FILE_MODE); // SQLite created it with the umask's mode
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, out);
  fsyncDir(dirname(out));
}

/**
 * A synchronous backup (VACUUM INTO), for moments when nothing else may run: before a migration.
 * `tag` distinguishes backups of the same second (the schema version being left).
 */
export function backupDatabaseSync(db: Db, dbFile: string, reason: BackupReason, opts: { tag?: string; now?: Date } = {}): string {
  const out = target(dbFile, reason, opts.now ?? new Date(), opts.tag);
  const tmp = `${out}.partial`;
  ensurePrivateDir(backupsDir(dbFile), `backup of ${dbFile}`);
  try {
    rmSync(tmp, { force: true });
    db.prepare('VACUUM INTO ?').run(tmp);
    seal(tmp, out);
  } catch (cause) {
    rmSync(tmp, { force: true });
    throw storageError(`backup of ${dbFile}`, out, cause);
  }
  rotateBackups(dbFile);
  return out;
}

/** An online backup that yields to the event loop between batches of pages (the app's daily one). */
export async function backupDatabase(db: Db, dbFile: string, reason: BackupReason, opts: { now?: Date } = {}): Promise<string> {
  const out = target(dbFile, reason, opts.now ?? new Date());
  const tmp = `${out}.partial`;
  ensurePrivateDir(backupsDir(dbFile), `backup of ${dbFile}`);
  try {
    rmSync(tmp, { force: true });
    await db.backup(tmp, { progress: () => 256 });
    seal(tmp, out);
  } catch (cause) {
    rmSync(tmp, { force: true });
    throw storageError(`backup of ${dbFile}`, out, cause);
  }
  rotateBackups(dbFile);
  return out;
}

/** Deletes all but the newest BACKUPS_KEPT[reason] backups of each kind. */
export function rotateBackups(dbFile: string): void {
  const seen: Record<BackupReason, number> = { migration: 0, daily: 0, manual: 0 };
  for (const b of listBackups(dbFile)) {
    if (++seen[b.reason] > BACKUPS_KEPT[b.reason]) rmSync(b.file, { force: true });
  }
}

/** What is wrong with a backup file (undefined: it opens and passes integrity and foreign-key checks). */
export function checkBackup(file: string): string | undefined {
  let b: Db | undefined;
  try {
    b = new Database(file, { readonly: true, fileMustExist: true });
    const problems = b.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
    if (problems.length !== 1 || problems[0]!.integrity_check !== 'ok') return problems.map((p) => p.integrity_check).join('; ');
    if ((b.pragma('foreign_key_check') as unknown[]).length > 0) return 'foreign key violations';
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    b?.close();
  }
}

/** The newest backup that passes the checks. */
export function lastGoodBackup(dbFile: string): BackupInfo | undefined {
  return listBackups(dbFile).find((b) => checkBackup(b.file) === undefined);
}

/** True when no backup of this database is younger than a day. */
export function dailyBackupDue(dbFile: string, now = new Date()): boolean {
  const newest = listBackups(dbFile)[0];
  return newest === undefined || now.getTime() - Date.parse(newest.at) >= DAY_MS;
}

/**
 * The app's daily backup: checks at start and then every hour whether a day has passed since the
 * newest backup. A failure is reported through `onError` (the service logs and shows it), and the
 * next check tries again.
 */
export function scheduleDailyBackups(db: Db, dbFile: string, onError: (e: unknown) => void, checkEveryMs = 3600_000): { stop(): void } {
  let running = false;
  let stopped = false;
  const tick = (): void => {
    if (running || stopped || !db.open || !dailyBackupDue(dbFile)) return;
    running = true;
    backupDatabase(db, dbFile, 'daily')
      .catch(onError)
      .finally(() => {
        running = false;
      });
  };
  const first = setTimeout(tick, 5_000);
  const timer = setInterval(tick, checkEveryMs);
  first.unref();
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}

/** Copies a backup over the database file durably (the caller has moved the old files aside). */
export function copyIntoPlace(from: string, dbFile: string): void {
  const tmp = join(dirname(dbFile), `.${basename(dbFile)}.restore.partial`);
  try {
    copyFileSync(from, tmp);
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, dbFile);
    fsyncDir(dirname(dbFile));
  } catch (cause) {
    rmSync(tmp, { force: true });
    throw storageError(`restore of ${dbFile}`, dbFile, cause);
  }
}

export function fileSize(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}
