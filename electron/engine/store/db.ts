/**
 * The study database: one SQLite file (better-sqlite3 12; 13 needs Node 22). WAL so that readers
 * (the UI) never block the batch writer; `synchronous` is set explicitly on every open because a
 * reopened WAL database silently reads NORMAL. Schema changes are numbered migrations keyed on
 * `PRAGMA user_version`, each applied in its own transaction.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DelineateError } from '../errors.js';
import { MIGRATIONS } from './migrations/index.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** FULL survives power loss at the cost of an fsync per commit; NORMAL survives process crashes. */
  synchronous?: 'NORMAL' | 'FULL';
  /** Stop after this migration (tests migrate to N-1, insert, then to N). */
  targetVersion?: number;
  readonly?: boolean;
}

export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  if (file !== ':memory:' && !opts.readonly) mkdirSync(dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (cause) {
    throw new DelineateError('bad-input', `cannot open database ${file}: ${(cause as Error).message}`, { file }, { cause });
  }
  db.pragma('busy_timeout = 10000');
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  if (!opts.readonly) migrate(db, opts.targetVersion);
  return db;
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
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
