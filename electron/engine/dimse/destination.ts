/**
 * DICOM network destinations (a TPS or PACS): AE title, host, port, the calling AE title we present,
 * and a timeout. Parsed from `AET@HOST:PORT` or kept by name in the database (migration 4).
 */
import { DelineateError, InputError, NotFoundError } from '../errors.js';
import type { Db } from '../store/db.js';

export interface Destination {
  /** Called AE title (PS3.8 9.3.2: 1-16 characters, no backslash or control characters). */
  aeTitle: string;
  host: string;
  port: number;
  callingAeTitle: string;
  /** Per-step limit (connect, association, each PDU), milliseconds. */
  timeoutMs: number;
}

export const DEFAULT_CALLING_AE = 'DELINEATE';
export const DEFAULT_TIMEOUT_MS = 30_000;

export function validateAeTitle(ae: string, what = 'AE title'): string {
  const t = ae.trim();
  // eslint-disable-next-line no-control-regex
  if (t.length === 0 || t.length > 16 || /[\\\u0000-\u001f\u007f]/.test(t)) {
    throw new InputError(`${what} '${ae}' must be 1-16 characters without backslash or control characters (PS3.5 AE)`);
  }
  return t;
}

/** `AET@HOST:PORT` (IPv6 hosts in brackets: `AET@[::1]:104`). */
export function parseDestination(spec: string, opts: { callingAeTitle?: string; timeoutMs?: number } = {}): Destination {
  const m = /^([^@]+)@(\[[^\]]+\]|[^:@]+):(\d+)$/.exec(spec.trim());
  if (!m) throw new InputError(`destination '${spec}' is not AET@HOST:PORT`);
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`destination '${spec}': port ${m[3]} is not 1-65535`);
  return {
    aeTitle: validateAeTitle(m[1]!, 'called AE title'),
    host: m[2]!.replace(/^\[|\]$/g, ''),
    port,
    callingAeTitle: validateAeTitle(opts.callingAeTitle ?? DEFAULT_CALLING_AE, 'calling AE title'),
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

export function formatDestination(d: Pick<Destination, 'aeTitle' | 'host' | 'port'>): string {
  return `${d.aeTitle}@${d.host.includes(':') ? `[${d.host}]` : d.host}:${d.port}`;
}

interface Row {
  name: string;
  ae_title: string;
  host: string;
  port: number;
  calling_ae_title: string;
  timeout_ms: number;
}

const toDestination = (r: Row): Destination & { name: string } => ({
  name: r.name,
  aeTitle: r.ae_title,
  host: r.host,
  port: r.port,
  callingAeTitle: r.calling_ae_title,
  timeoutMs: r.timeout_ms,
});

/** The destinations table comes with migration 4; an older database says so instead of a raw SQL error. */
function requireTable(db: Db): void {
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'destinations'").get() === undefined) {
    throw new DelineateError('conflict', `database ${db.name} has no destinations table (schema migration 4 not applied): use --to AET@HOST:PORT`);
  }
}

export function saveDestination(db: Db, name: string, d: Destination): void {
  requireTable(db);
  const n = name.trim();
  if (n === '') throw new InputError('destination name is empty');
  db.prepare(
    `INSERT INTO destinations (name, ae_title, host, port, calling_ae_title, timeout_ms) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET ae_title = excluded.ae_title, host = excluded.host, port = excluded.port,
       calling_ae_title = excluded.calling_ae_title, timeout_ms = excluded.timeout_ms`,
  ).run(n, validateAeTitle(d.aeTitle), d.host, d.port, validateAeTitle(d.callingAeTitle), d.timeoutMs);
}

export function listDestinations(db: Db): Array<Destination & { name: string }> {
  requireTable(db);
  return (db.prepare('SELECT * FROM destinations ORDER BY name').all() as Row[]).map(toDestination);
}

export function getDestination(db: Db, name: string): Destination & { name: string } {
  requireTable(db);
  const r = db.prepare('SELECT * FROM destinations WHERE name = ?').get(name) as Row | undefined;
  if (!r) throw new NotFoundError(`no DICOM destination named '${name}'`);
  return toDestination(r);
}

export function deleteDestination(db: Db, name: string): void {
  requireTable(db);
  if (db.prepare('DELETE FROM destinations WHERE name = ?').run(name).changes === 0) throw new NotFoundError(`no DICOM destination named '${name}'`);
}
