/**
 * `delineate audit verify [--json]`: checks the audit trail's hash chain (engine/audit/chain.ts).
 * JSON: {ok, entries, head, firstBroken?: {id, reason, message}}; exit status 1 when it is broken,
 * so a scheduled check can alert on it.
 *
 * `delineate audit export --series UID --format csv|json [--out FILE]`: a series' audit entries with
 * their hashes, for a physicist's records. Without --out the document goes to stdout; with --json
 * the command prints {seriesUid, format, out?, entries, verification}.
 */
import type { Command } from '../command.js';
import { req, str, UsageError } from '../args.js';
import { DelineateError } from '../../engine/errors.js';
import { verifyAuditChain, type AuditVerification } from '../../engine/audit/chain.js';
import { auditRecords, auditRecordsCsv, type AuditRecords } from '../../engine/audit/records.js';
import { writeFileAtomic } from '../../engine/fs/atomic.js';

export const auditVerifyCommand: Command = {
  path: ['audit', 'verify'],
  summary: 'check that no audit entry was edited, deleted or inserted out of order (hash chain)',
  usage: 'delineate audit verify [--db FILE] [--json]',
  flags: {},
  run(_args, ctx) {
    const v = verifyAuditChain(ctx.db());
    if (!v.ok) {
      // Exit status 1 with the finding on stderr; --json still prints the document on stdout.
      if (ctx.json) process.stdout.write(`${JSON.stringify(v)}\n`);
      throw new DelineateError('conflict', `audit trail of ${ctx.dbPath} is broken: ${v.firstBroken?.message ?? 'unknown'}`, { file: ctx.dbPath });
    }
    return Promise.resolve(v);
  },
  human(result) {
    const v = result as AuditVerification;
    return `audit trail intact: ${v.entries} entries, head ${v.head}`;
  },
};

export const auditExportCommand: Command = {
  path: ['audit', 'export'],
  summary: "a series' audit entries with their hashes as CSV or JSON, for a physicist's records",
  usage: 'delineate audit export --series UID --format csv|json [--out FILE] [--db FILE] [--json]',
  flags: {
    series: { type: 'string', description: 'series UID' },
    format: { type: 'string', description: 'csv or json' },
    out: { type: 'string', description: 'file to write (default: stdout)' },
  },
  run(args, ctx) {
    const seriesUid = req(args, 'series');
    const format = req(args, 'format');
    if (format !== 'csv' && format !== 'json') throw new UsageError(`option --format must be csv or json, not '${format}'`);
    const out = str(args, 'out');
    const records = auditRecords(ctx.db(), seriesUid);
    const text = format === 'csv' ? auditRecordsCsv(records.entries) : `${JSON.stringify(records, null, 1)}\n`;
    if (!records.verification.ok) ctx.log(`warning: the audit trail is broken: ${records.verification.firstBroken?.message ?? ''}`);
    if (out !== undefined) writeFileAtomic(out, text, { operation: 'audit export' });
    const doc = { ...records, format, ...(out !== undefined ? { out } : {}) };
    return Promise.resolve(ctx.json ? doc : { ...doc, text });
  },
  human(result) {
    const r = result as AuditRecords & { out?: string; text: string };
    return r.out !== undefined ? `${r.entries.length} audit entries of series ${r.seriesUid} written to ${r.out}` : r.text.replace(/\r?\n$/, '');
  },
};
