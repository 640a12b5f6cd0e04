/**
 * The exports log (migration 4): every RTSTRUCT written and every object sent. Its UIDs feed the
 * pre-flight "never reused" check. A database opened by an older build (no `exports` table yet)
 * has nothing logged, so these read as empty and record nothing until it is migrated.
 */
import type { Db } from '../store/db.js';

export interface ExportRecord {
  seriesUid?: string;
  kind: 'rtstruct' | 'labels' | 'send' | 'dataset' | 'seg';
  path?: string;
  sopInstanceUid?: string;
  seriesInstanceUid?: string;
  destination?: string;
  status?: 'ok' | 'failed';
  detail?: string;
}

function hasExportsTable(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'exports'").get() !== undefined;
}

export function recordExport(db: Db, r: ExportRecord): void {
  if (!hasExportsTable(db)) return;
  db.prepare(
    `INSERT INTO exports (series_uid, kind, path, sop_instance_uid, series_instance_uid, destination, status, detail)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(r.seriesUid ?? '', r.kind, r.path ?? '', r.sopInstanceUid ?? '', r.seriesInstanceUid ?? '', r.destination ?? '', r.status ?? 'ok', r.detail ?? '');
}

/** Every SOP Instance and Series UID this database has written. */
export function usedExportUids(db: Db): Set<string> {
  const out = new Set<string>();
  if (!hasExportsTable(db)) return out;
  const rows = db.prepare("SELECT sop_instance_uid, series_instance_uid FROM exports WHERE kind != 'send'").all() as Array<{ sop_instance_uid: string; series_instance_uid: string }>;
  for (const r of rows) {
    if (r.sop_instance_uid) out.add(r.sop_instance_uid);
    if (r.series_instance_uid) out.add(r.series_instance_uid);
  }
  return out;
}

export interface ExportRow extends Required<Omit<ExportRecord, 'status'>> {
  id: number;
  status: string;
  createdAt: string;
}

export function listExports(db: Db, seriesUid?: string): ExportRow[] {
  if (!hasExportsTable(db)) return [];
  const rows = (seriesUid === undefined
    ? db.prepare('SELECT * FROM exports ORDER BY id').all()
    : db.prepare('SELECT * FROM exports WHERE series_uid = ? ORDER BY id').all(seriesUid)) as Array<Record<string, string | number>>;
  return rows.map((r) => ({
    id: Number(r.id),
    seriesUid: String(r.series_uid),
    kind: String(r.kind) as ExportRecord['kind'],
    path: String(r.path),
    sopInstanceUid: String(r.sop_instance_uid),
    seriesInstanceUid: String(r.series_instance_uid),
    destination: String(r.destination),
    status: String(r.status),
    detail: String(r.detail),
    createdAt: String(r.created_at),
  }));
}
