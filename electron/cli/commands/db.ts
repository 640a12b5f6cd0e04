/**
 * `delineate db check`: integrity_check and foreign_key_check of the database, plus the file checks
 * (header, truncation, lost -wal), read-only. JSON: {ok, file, fileProblem?, integrity, foreignKeys,
 * backups, lastGoodBackup?}; exit 1 when anything is wrong.
 *
 * `delineate db restore [--from BACKUP]`: replaces the database with a backup (default: the newest
 * good one); the old files are moved aside, never deleted. JSON: {restored, from, movedAside}.
 *
 * `delineate db backup`: an online backup now, into the backups folder beside the database.
 */
import type { Command } from '../command.js';
import { str } from '../args.js';
import { DelineateError } from '../../engine/errors.js';
import { checkDatabase, restoreDatabase, type DatabaseCheck, type RestoreResult } from '../../engine/store/maintenance.js';
import { backupDatabase } from '../../engine/store/backup.js';

export const dbCheckCommand: Command = {
  path: ['db', 'check'],
  summary: 'check the database (integrity, foreign keys, truncation, lost write-ahead log) and list its backups',
  usage: 'delineate db check [--db FILE] [--json]',
  flags: {},
  run(_args, ctx) {
    const r = checkDatabase(ctx.dbPath);
    if (!r.ok) {
      if (ctx.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`${human(r)}\n`);
      const what = r.fileProblem ?? (r.integrity.length !== 1 || r.integrity[0] !== 'ok' ? r.integrity.slice(0, 3).join('; ') : `${r.foreignKeys.length} foreign key violations`);
      throw new DelineateError('storage', `database ${r.file} is damaged: ${what}${r.lastGoodBackup ? `; last good backup ${r.lastGoodBackup} (delineate db restore)` : ''}`, { file: r.file });
    }
    return Promise.resolve(r);
  },
  human: (r) => human(r as DatabaseCheck),
};

function human(r: DatabaseCheck): string {
  const lines = [`${r.file}: ${r.ok ? 'ok' : 'DAMAGED'}`];
  if (r.fileProblem) lines.push(`  file: ${r.fileProblem}`);
  if (!(r.integrity.length === 1 && r.integrity[0] === 'ok')) lines.push(...r.integrity.slice(0, 20).map((p) => `  integrity: ${p}`));
  for (const f of r.foreignKeys.slice(0, 20)) lines.push(`  foreign key: ${f.table} row ${f.rowid ?? '?'} -> ${f.parent}`);
  lines.push(`  backups: ${r.backups.length}${r.backups[0] ? `, newest ${r.backups[0].file} (${r.backups[0].reason}, ${r.backups[0].at})` : ''}`);
  if (r.lastGoodBackup) lines.push(`  last good backup: ${r.lastGoodBackup}`);
  return lines.join('\n');
}

export const dbRestoreCommand: Command = {
  path: ['db', 'restore'],
  summary: 'replace the database with a backup (default: the newest good one); close Delineate first',
  usage: 'delineate db restore [--from BACKUP] [--db FILE] [--json]',
  flags: { from: { type: 'string', description: 'backup file (default: the newest backup that passes integrity_check)' } },
  run(args, ctx) {
    return Promise.resolve(restoreDatabase(ctx.dbPath, str(args, 'from')));
  },
  human(result) {
    const r = result as RestoreResult;
    return `restored ${r.restored} from ${r.from}${r.movedAside.length ? `; the previous files were moved to ${r.movedAside.join(', ')}` : ''}`;
  },
};

export const dbBackupCommand: Command = {
  path: ['db', 'backup'],
  summary: 'take an online backup of the database now (into backups/ beside it)',
  usage: 'delineate db backup [--db FILE] [--json]',
  flags: {},
  async run(_args, ctx) {
    return { backup: await backupDatabase(ctx.db(), ctx.dbPath, 'manual') };
  },
  human: (r) => `backup written to ${(r as { backup: string }).backup}`,
};
