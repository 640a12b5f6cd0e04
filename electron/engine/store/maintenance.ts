/**
 * `delineate db check` and `delineate db restore`: what a physicist runs when Delineate reports a
 * damaged database. Both work on the file directly, without opening it for writing.
 */
import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { NotFoundError } from '../errors.js';
import { checkBackup, copyIntoPlace, fileSize, lastGoodBackup, listBackups, type BackupInfo } from './backup.js';
import { inspectDatabaseFile, isCorruption, sessionMarker } from './health.js';
import type { Db } from './db.js';

export interface DatabaseCheck {
  ok: boolean;
  file: string;
  /** What the file checks found before opening (header, truncation, lost -wal, missing file). */
  fileProblem?: string;
  /** PRAGMA integrity_check's findings (['ok'] when whole). */
  integrity: string[];
  foreignKeys: { table: string; rowid: number | null; parent: string }[];
  backups: BackupInfo[];
  lastGoodBackup?: string;
}

/** Full integrity_check and foreign_key_check, read-only. */
export function checkDatabase(file: string): DatabaseCheck {
  const backups = listBackups(file);
  const good = (): string | undefined => lastGoodBackup(file)?.file;
  const problem = inspectDatabaseFile(file);
  if (!existsSync(file)) {
    if (problem === undefined) throw new NotFoundError(`database ${file} does not exist`, { file });
    const g = good();
    return { ok: false, file, fileProblem: problem, integrity: [], foreignKeys: [], backups, ...(g ? { lastGoodBackup: g } : {}) };
  }
  let db: Db | undefined;
  let integrity: string[] = [];
  let foreignKeys: DatabaseCheck['foreignKeys'] = [];
  // A read-only connection still creates an empty -wal and a -shm; left behind, they would hide a
  // lost write-ahead log from the next open. Remove what this check created (only then: every other
  // Delineate process refuses the file too, so none can be using a -wal created meanwhile).
  const hadWal = existsSync(`${file}-wal`);
  const hadShm = existsSync(`${file}-shm`);
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
    foreignKeys = (db.pragma('foreign_key_check') as { table: string; rowid: number | null; parent: string }[]).map((r) => ({ table: r.table, rowid: r.rowid, parent: r.parent }));
  } catch (e) {
    if (!isCorruption(e)) throw e;
    integrity = [(e as Error).message];
  } finally {
    db?.close();
    if (problem !== undefined && !hadWal && (fileSize(`${file}-wal`) ?? 0) === 0) {
      rmSync(`${file}-wal`, { force: true });
      if (!hadShm) rmSync(`${file}-shm`, { force: true });
    }
  }
  const ok = problem === undefined && integrity.length === 1 && integrity[0] === 'ok' && foreignKeys.length === 0;
  const g = ok ? undefined : good();
  return { ok, file, ...(problem !== undefined ? { fileProblem: problem } : {}), integrity, foreignKeys, backups, ...(g ? { lastGoodBackup: g } : {}) };
}

export interface RestoreResult {
  restored: string;
  from: string;
  /** Where the replaced files were moved (kept, never deleted). */
  movedAside: string[];
}

/**
 * Replaces the database with a backup (default: the newest good one). The current file and its
 * -wal/-shm are renamed to `FILE.damaged-STAMP` beside it, never deleted. Delineate must be closed.
 */
export function restoreDatabase(file: string, from?: string): RestoreResult {
  const source = from ?? lastGoodBackup(file)?.file;
  if (source === undefined) throw new NotFoundError(`no good backup of ${file} was found in ${listBackups(file).length ? 'its backups folder (every backup failed its check)' : 'its backups folder'}; give one with --from FILE`, { file });
  if (!existsSync(source)) throw new NotFoundError(`backup ${source} does not exist`, { file: source });
  const bad = checkBackup(source);
  if (bad !== undefined) throw new NotFoundError(`backup ${source} is not usable: ${bad}`, { file: source });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const movedAside: string[] = [];
  for (const suffix of ['', '-wal', '-shm']) {
    const f = `${file}${suffix}`;
    if (!existsSync(f)) continue;
    const aside = `${file}.damaged-${stamp}${suffix}`;
    renameSync(f, aside);
    movedAside.push(aside);
  }
  copyIntoPlace(source, file);
  rmSync(sessionMarker(file), { force: true });
  return { restored: file, from: source, movedAside };
}
