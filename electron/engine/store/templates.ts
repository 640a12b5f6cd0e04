/**
 * Template sets (DESIGN.md "Templates"): a set groups structures (TG-263 names) and, for each, the
 * template scans annotated with six extreme points in LPS mm. Tables from migration 2:
 * structures, template_sets, template_members. Points are stored in the order of extreme-order.ts.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError, NotFoundError } from '../errors.js';
import type { Vec3 } from '../volume/geometry.js';
import type { Db } from './db.js';
import { catalogueEntry, defaultColor, validateColor, validateStructureName } from './structures.js';
import { assignExtremePoints, validateSixPoints } from './extreme-order.js';

export type TemplateSource = 'clicked' | 'rtstruct' | 'labels';

export interface TemplateMemberView {
  seriesUid: string;
  points: Vec3[];
  source: TemplateSource;
  sourceRef: string;
}

export interface TemplateStructureView {
  name: string;
  color: string;
  members: TemplateMemberView[];
}

export interface TemplateSetView {
  name: string;
  site: string;
  structures: TemplateStructureView[];
}

export interface StructureRow {
  name: string;
  color: string;
  interpretedType: string;
  description: string;
}

const MAX_SET_NAME = 64;

export function validateSetName(name: string): string {
  const n = name.trim();
  if (n.length === 0 || n.length > MAX_SET_NAME) {
    throw new InputError(`template set name '${name}' must have 1 to ${MAX_SET_NAME} characters`, { templateSet: name });
  }
  return n;
}

/** Adds the structure to the catalogue table if missing (colour from the TG-263 table, else derived from the name); updates colour/type when given. */
export function ensureStructure(db: Db, name: string, opts: { color?: string; interpretedType?: string } = {}): StructureRow {
  const n = validateStructureName(name);
  const known = catalogueEntry(n);
  const color = opts.color !== undefined ? validateColor(opts.color, n) : undefined;
  db.prepare(`INSERT OR IGNORE INTO structures (name, color, interpreted_type, description) VALUES (?, ?, ?, ?)`).run(
    n,
    color ?? known?.color ?? defaultColor(n),
    opts.interpretedType ?? known?.interpretedType ?? 'ORGAN',
    known?.description ?? '',
  );
  if (color !== undefined) db.prepare(`UPDATE structures SET color = ? WHERE name = ?`).run(color, n);
  if (opts.interpretedType !== undefined) db.prepare(`UPDATE structures SET interpreted_type = ? WHERE name = ?`).run(opts.interpretedType, n);
  return getStructure(db, n)!;
}

export function getStructure(db: Db, name: string): StructureRow | undefined {
  const r = db.prepare(`SELECT name, color, interpreted_type AS interpretedType, description FROM structures WHERE name = ?`).get(name) as
    | StructureRow
    | undefined;
  return r;
}

export function listStructures(db: Db): StructureRow[] {
  return db.prepare(`SELECT name, color, interpreted_type AS interpretedType, description FROM structures ORDER BY name`).all() as StructureRow[];
}

function ensureSet(db: Db, name: string, site = ''): number {
  db.prepare(`INSERT OR IGNORE INTO template_sets (name, site) VALUES (?, ?)`).run(name, site);
  return (db.prepare(`SELECT id FROM template_sets WHERE name = ?`).get(name) as { id: number }).id;
}

export interface AddTemplateMember {
  set: string;
  structure: string;
  seriesUid: string;
  points: Vec3[];
  source: TemplateSource;
  sourceRef?: string;
  /** The structure's mask on the series grid (i fastest), for atlas backends; stored gzipped. */
  labelMask?: Uint8Array;
  site?: string;
  color?: string;
}

/** Stores one member (points reordered to the slots of extreme-order.ts), replacing an existing one for the same set, structure and series. */
export function addTemplateMember(db: Db, m: AddTemplateMember): void {
  const set = validateSetName(m.set);
  const structure = validateStructureName(m.structure);
  const ctx = { templateSet: set, structure, seriesUid: m.seriesUid };
  // Canonical slot order (extreme-order.ts) whatever order the caller listed them in.
  const points = assignExtremePoints(validateSixPoints(m.points, ctx));
  if (!['clicked', 'rtstruct', 'labels'].includes(m.source)) throw new InputError(`unknown template source '${m.source}'`, ctx);
  const series = db.prepare(`SELECT series_uid FROM series WHERE series_uid = ?`).get(m.seriesUid);
  if (!series) throw new NotFoundError(`series ${m.seriesUid} is not in the archive; import it first`, ctx);
  db.transaction(() => {
    ensureStructure(db, structure, m.color !== undefined ? { color: m.color } : {});
    const setId = ensureSet(db, set, m.site);
    db.prepare(
      `INSERT INTO template_members (set_id, structure, series_uid, points_json, source, source_ref, label_mask)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (set_id, structure, series_uid) DO UPDATE SET
         points_json = excluded.points_json, source = excluded.source, source_ref = excluded.source_ref,
         label_mask = excluded.label_mask, created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    ).run(setId, structure, m.seriesUid, JSON.stringify(points), m.source, m.sourceRef ?? '', m.labelMask ? gzipSync(m.labelMask) : null);
  }).immediate();
}

interface MemberRow {
  structure: string;
  color: string;
  series_uid: string;
  points_json: string;
  source: TemplateSource;
  source_ref: string;
}

function assemble(name: string, site: string, rows: MemberRow[]): TemplateSetView {
  const byStructure = new Map<string, TemplateStructureView>();
  for (const r of rows) {
    let s = byStructure.get(r.structure);
    if (!s) byStructure.set(r.structure, (s = { name: r.structure, color: r.color, members: [] }));
    s.members.push({ seriesUid: r.series_uid, points: JSON.parse(r.points_json) as Vec3[], source: r.source, sourceRef: r.source_ref });
  }
  return { name, site, structures: [...byStructure.values()] };
}

const MEMBER_SQL = `SELECT m.structure, s.color, m.series_uid, m.points_json, m.source, m.source_ref
  FROM template_members m JOIN structures s ON s.name = m.structure
  WHERE m.set_id = ? ORDER BY m.structure, m.series_uid`;

export function getTemplateSet(db: Db, name: string): TemplateSetView {
  const set = db.prepare(`SELECT id, name, site FROM template_sets WHERE name = ?`).get(name) as { id: number; name: string; site: string } | undefined;
  if (!set) throw new NotFoundError(`template set '${name}' does not exist`, { templateSet: name });
  return assemble(set.name, set.site, db.prepare(MEMBER_SQL).all(set.id) as MemberRow[]);
}

export function listTemplateSets(db: Db): TemplateSetView[] {
  const sets = db.prepare(`SELECT id, name, site FROM template_sets ORDER BY name`).all() as { id: number; name: string; site: string }[];
  const stmt = db.prepare(MEMBER_SQL);
  return sets.map((s) => assemble(s.name, s.site, stmt.all(s.id) as MemberRow[]));
}

export interface MemberKey {
  set: string;
  structure: string;
  seriesUid: string;
}

/** Removes one member; the set stays (possibly empty) until deleteTemplateSet. */
export function deleteTemplateMember(db: Db, k: MemberKey): void {
  const r = db
    .prepare(`DELETE FROM template_members WHERE structure = ? AND series_uid = ? AND set_id = (SELECT id FROM template_sets WHERE name = ?)`)
    .run(k.structure, k.seriesUid, k.set);
  if (r.changes === 0) {
    throw new NotFoundError(`template set '${k.set}' has no member ${k.structure} on series ${k.seriesUid}`, {
      templateSet: k.set,
      structure: k.structure,
      seriesUid: k.seriesUid,
    });
  }
}

export function deleteTemplateSet(db: Db, name: string): void {
  const r = db.prepare(`DELETE FROM template_sets WHERE name = ?`).run(name);
  if (r.changes === 0) throw new NotFoundError(`template set '${name}' does not exist`, { templateSet: name });
}

/** `structure \u0000 seriesUid` of every member of the set that has a stored mask (one indexed query). */
export function membersWithMasks(db: Db, set: string): Set<string> {
  const rows = db
    .prepare(`SELECT structure, series_uid FROM template_members WHERE label_mask IS NOT NULL AND set_id = (SELECT id FROM template_sets WHERE name = ?)`)
    .all(set) as { structure: string; series_uid: string }[];
  return new Set(rows.map((r) => `${r.structure}\u0000${r.series_uid}`));
}

/** The stored mask of a member, or undefined when it came from clicks. */
export function getTemplateMask(db: Db, k: MemberKey): Uint8Array | undefined {
  const r = db
    .prepare(
      `SELECT label_mask FROM template_members WHERE structure = ? AND series_uid = ? AND set_id = (SELECT id FROM template_sets WHERE name = ?)`,
    )
    .get(k.structure, k.seriesUid, k.set) as { label_mask: Buffer | null } | undefined;
  if (!r) throw new NotFoundError(`template set '${k.set}' has no member ${k.structure} on series ${k.seriesUid}`, { templateSet: k.set, structure: k.structure, seriesUid: k.seriesUid });
  return r.label_mask ? new Uint8Array(gunzipSync(r.label_mask)) : undefined;
}
