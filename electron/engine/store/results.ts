/**
 * Per-series results of a template set: one row per (series, template set, structure). The localizer
 * writes boxes and extreme points, the segmenter adds the mask; review state lives on the same row.
 * Masks are stored gzip-compressed on the series grid (organ masks compress 50-200x), so a row is one
 * atomic unit: a batch item commits all of its structures in one transaction.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Db } from './db.js';
import { NotFoundError, InputError } from '../errors.js';
import type { Box, LocalizedStructure, ModelRef, StructureFlag } from '../localize/localizer.js';
import type { Vec3 } from '../volume/geometry.js';

export type ReviewState = 'pending' | 'approved' | 'rejected';

export interface StoredResult {
  id: number;
  seriesUid: string;
  templateSet: string;
  structure: string;
  localizer: string | null;
  segmenter: string | null;
  mode: 'wpl' | 'spl' | null;
  boxes: Box[];
  extremePoints: Vec3[];
  confidence: number | null;
  flags: StructureFlag[];
  hasMask: boolean;
  voxels: number | null;
  volumeCc: number | null;
  models: ModelRef[];
  reviewState: ReviewState;
  reviewer: string;
  /** The current mask's revision (0: never segmented); earlier ones are kept (listRevisions). */
  revision: number;
  /** Who made the current mask: 'segmenter' (revisionActor = backend) or 'edit' (revisionActor = reviewer). */
  revisionSource: string;
  revisionActor: string;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: number;
  series_uid: string;
  set_name: string;
  structure: string;
  localizer: string | null;
  segmenter: string | null;
  mode: string | null;
  boxes_json: string | null;
  extreme_points_json: string | null;
  confidence: number | null;
  flags_json: string;
  has_mask: number;
  voxels: number | null;
  volume_cc: number | null;
  models_json: string;
  review_state: string;
  reviewer: string;
  revision: number;
  revision_source: string;
  revision_actor: string;
  created_at: string;
  updated_at: string;
}

const SELECT = `
  SELECT r.id, r.series_uid, s.name AS set_name, r.structure, r.localizer, r.segmenter, r.mode,
         r.boxes_json, r.extreme_points_json, r.confidence, r.flags_json, (r.mask IS NOT NULL) AS has_mask,
         r.voxels, r.volume_cc, r.models_json, r.review_state, r.reviewer, r.revision, r.revision_source, r.revision_actor, r.created_at, r.updated_at
  FROM results r JOIN template_sets s ON s.id = r.set_id`;

function fromRow(r: Row): StoredResult {
  return {
    id: r.id,
    seriesUid: r.series_uid,
    templateSet: r.set_name,
    structure: r.structure,
    localizer: r.localizer,
    segmenter: r.segmenter,
    mode: r.mode === 'wpl' || r.mode === 'spl' ? r.mode : null,
    boxes: r.boxes_json ? (JSON.parse(r.boxes_json) as Box[]) : [],
    extremePoints: r.extreme_points_json ? (JSON.parse(r.extreme_points_json) as Vec3[]) : [],
    confidence: r.confidence,
    flags: JSON.parse(r.flags_json) as StructureFlag[],
    hasMask: r.has_mask === 1,
    voxels: r.voxels,
    volumeCc: r.volume_cc,
    models: JSON.parse(r.models_json) as ModelRef[],
    reviewState: r.review_state as ReviewState,
    reviewer: r.reviewer,
    revision: r.revision,
    revisionSource: r.revision_source,
    revisionActor: r.revision_actor,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function setId(db: Db, name: string): number {
  const row = db.prepare('SELECT id FROM template_sets WHERE name = ?').get(name) as { id: number } | undefined;
  if (!row) throw new NotFoundError(`template set '${name}' does not exist`, { templateSet: name });
  return row.id;
}

function ensureStructureRow(db: Db, name: string): void {
  db.prepare('INSERT OR IGNORE INTO structures (name) VALUES (?)').run(name);
}

export interface LocalizationInput {
  seriesUid: string;
  templateSet: string;
  localizer: string;
  mode: 'wpl' | 'spl';
  models: ModelRef[];
  structures: LocalizedStructure[];
}

/**
 * Stores a localization: replaces boxes, points, confidence and flags of each structure, clears any
 * mask computed from older boxes, and resets review to pending (a new box invalidates an approval).
 * All structures in one transaction.
 */
export function upsertLocalization(db: Db, input: LocalizationInput): void {
  const sid = setId(db, input.templateSet);
  const stmt = db.prepare(`
    INSERT INTO results (series_uid, set_id, structure, localizer, mode, boxes_json, extreme_points_json,
                         confidence, flags_json, models_json)
    VALUES (@series, @set, @structure, @localizer, @mode, @boxes, @points, @confidence, @flags, @models)
    ON CONFLICT (series_uid, set_id, structure) DO UPDATE SET
      localizer = excluded.localizer, mode = excluded.mode, boxes_json = excluded.boxes_json,
      extreme_points_json = excluded.extreme_points_json, confidence = excluded.confidence,
      flags_json = excluded.flags_json, models_json = excluded.models_json,
      segmenter = NULL, mask = NULL, voxels = NULL, volume_cc = NULL,
      review_state = 'pending', reviewer = '',
      updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`);
  db.transaction(() => {
    for (const s of input.structures) {
      ensureStructureRow(db, s.name);
      archiveCurrentMask(db, input.seriesUid, sid, s.name);
      stmt.run({
        series: input.seriesUid,
        set: sid,
        structure: s.name,
        localizer: input.localizer,
        mode: input.mode,
        boxes: JSON.stringify(s.boxes),
        points: JSON.stringify(s.extremePoints),
        confidence: Number.isFinite(s.confidence) ? s.confidence : null,
        flags: JSON.stringify(s.flags),
        models: JSON.stringify(input.models),
      });
    }
  }).immediate();
}

export interface SegmentationInput {
  seriesUid: string;
  templateSet: string;
  segmenter: string;
  models: ModelRef[];
  structures: { name: string; mask: Uint8Array; voxels: number; volumeCc: number; confidence?: number; flags?: StructureFlag[] }[];
}

/** Stores masks (and merges model references and flags with the localization's). One transaction. */
export function upsertSegmentation(db: Db, input: SegmentationInput): void {
  const sid = setId(db, input.templateSet);
  const get = db.prepare('SELECT models_json, flags_json, confidence FROM results WHERE series_uid = ? AND set_id = ? AND structure = ?');
  const stmt = db.prepare(`
    INSERT INTO results (series_uid, set_id, structure, segmenter, mask, voxels, volume_cc, models_json, flags_json, confidence,
                         revision, revision_source, revision_actor)
    VALUES (@series, @set, @structure, @segmenter, @mask, @voxels, @volume, @models, @flags, @confidence, 1, 'segmenter', @segmenter)
    ON CONFLICT (series_uid, set_id, structure) DO UPDATE SET
      revision = results.revision + 1, revision_source = 'segmenter', revision_actor = excluded.segmenter,
      segmenter = excluded.segmenter, mask = excluded.mask, voxels = excluded.voxels,
      volume_cc = excluded.volume_cc, models_json = excluded.models_json, flags_json = excluded.flags_json,
      confidence = excluded.confidence, review_state = 'pending', reviewer = '',
      updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`);
  db.transaction(() => {
    for (const s of input.structures) {
      ensureStructureRow(db, s.name);
      const prev = get.get(input.seriesUid, sid, s.name) as { models_json: string; flags_json: string; confidence: number | null } | undefined;
      const models = mergeModels(prev ? (JSON.parse(prev.models_json) as ModelRef[]) : [], input.models);
      const flags = [...new Set([...(prev ? (JSON.parse(prev.flags_json) as StructureFlag[]) : []), ...(s.flags ?? [])])];
      archiveCurrentMask(db, input.seriesUid, sid, s.name);
      stmt.run({
        series: input.seriesUid,
        set: sid,
        structure: s.name,
        segmenter: input.segmenter,
        mask: gzipSync(s.mask, { level: 6 }),
        voxels: s.voxels,
        volume: s.volumeCc,
        models: JSON.stringify(models),
        flags: JSON.stringify(flags),
        confidence: s.confidence ?? prev?.confidence ?? null,
      });
    }
  }).immediate();
}

function mergeModels(a: ModelRef[], b: ModelRef[]): ModelRef[] {
  const seen = new Map(a.map((m) => [`${m.name}:${m.sha256}`, m]));
  for (const m of b) seen.set(`${m.name}:${m.sha256}`, m);
  return [...seen.values()];
}

export function getResults(db: Db, seriesUid: string, templateSet?: string): StoredResult[] {
  const rows = (
    templateSet === undefined
      ? db.prepare(`${SELECT} WHERE r.series_uid = ? ORDER BY s.name, r.structure`).all(seriesUid)
      : db.prepare(`${SELECT} WHERE r.series_uid = ? AND s.name = ? ORDER BY r.structure`).all(seriesUid, templateSet)
  ) as Row[];
  return rows.map(fromRow);
}

export function getResult(db: Db, id: number): StoredResult {
  const row = db.prepare(`${SELECT} WHERE r.id = ?`).get(id) as Row | undefined;
  if (!row) throw new NotFoundError(`result ${id} does not exist`);
  return fromRow(row);
}

/** The stored mask (0/1 on the series grid) or undefined when the structure was only localized. */
export function getResultMask(db: Db, id: number): Uint8Array | undefined {
  const row = db.prepare('SELECT mask FROM results WHERE id = ?').get(id) as { mask: Buffer | null } | undefined;
  if (!row) throw new NotFoundError(`result ${id} does not exist`);
  if (!row.mask) return undefined;
  const raw = gunzipSync(row.mask);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

export function setReviewState(db: Db, id: number, state: ReviewState, reviewer: string): void {
  if (!['pending', 'approved', 'rejected'].includes(state)) throw new InputError(`unknown review state '${state}'`);
  const r = db
    .prepare(`UPDATE results SET review_state = ?, reviewer = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`)
    .run(state, reviewer, id);
  if (r.changes === 0) throw new NotFoundError(`result ${id} does not exist`);
}

/**
 * Copies the current mask of a result (if any) into result_revisions before it is replaced or
 * cleared (migration 8). Call inside the transaction that replaces it.
 */
export function archiveCurrentMask(db: Db, seriesUid: string, sid: number, structure: string): void {
  db.prepare(`
    INSERT OR IGNORE INTO result_revisions (result_id, revision, mask, voxels, volume_cc, source, actor, created_at)
    SELECT id, revision, mask, voxels, volume_cc, revision_source, revision_actor, updated_at
    FROM results WHERE series_uid = ? AND set_id = ? AND structure = ? AND mask IS NOT NULL`).run(seriesUid, sid, structure);
}

export interface MaskRevisionInfo {
  revision: number;
  source: string;
  actor: string;
  voxels: number | null;
  volumeCc: number | null;
  createdAt: string;
  current: boolean;
}

/** Every stored revision of a result's mask, oldest first; the current one last. */
export function listRevisions(db: Db, id: number): MaskRevisionInfo[] {
  const cur = getResult(db, id);
  const old = db
    .prepare('SELECT revision, source, actor, voxels, volume_cc, created_at FROM result_revisions WHERE result_id = ? ORDER BY revision')
    .all(id) as { revision: number; source: string; actor: string; voxels: number | null; volume_cc: number | null; created_at: string }[];
  const out: MaskRevisionInfo[] = old.map((r) => ({ revision: r.revision, source: r.source, actor: r.actor, voxels: r.voxels, volumeCc: r.volume_cc, createdAt: r.created_at, current: false }));
  if (cur.hasMask) out.push({ revision: cur.revision, source: cur.revisionSource, actor: cur.revisionActor, voxels: cur.voxels, volumeCc: cur.volumeCc, createdAt: cur.updatedAt, current: true });
  return out;
}

/** The mask of one revision (the current one from the result row, earlier ones from result_revisions). */
export function getRevisionMask(db: Db, id: number, revision: number): Uint8Array {
  const cur = getResult(db, id);
  if (cur.hasMask && revision === cur.revision) return getResultMask(db, id)!;
  const row = db.prepare('SELECT mask FROM result_revisions WHERE result_id = ? AND revision = ?').get(id, revision) as { mask: Buffer } | undefined;
  if (!row) throw new NotFoundError(`${cur.structure} on series ${cur.seriesUid} has no mask revision ${revision}`, { seriesUid: cur.seriesUid, structure: cur.structure });
  const raw = gunzipSync(row.mask);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

export interface EditedMaskInput {
  seriesUid: string;
  templateSet: string;
  structure: string;
  mask: Uint8Array;
  voxels: number;
  volumeCc: number;
  flags: StructureFlag[];
  actor: string;
  /** Only for a structure the series had no result for (drawn from scratch). */
  boxes?: Box[];
}

/**
 * Stores a reviewer's mask as the next revision (the current one archived first) with review state
 * pending; creates the row for a structure drawn from scratch. Returns the new revision. The caller
 * runs it in a transaction with its audit entry.
 */
export function storeEditedMask(db: Db, input: EditedMaskInput): number {
  const sid = setId(db, input.templateSet);
  ensureStructureRow(db, input.structure);
  archiveCurrentMask(db, input.seriesUid, sid, input.structure);
  db.prepare(`
    INSERT INTO results (series_uid, set_id, structure, localizer, segmenter, mode, boxes_json, extreme_points_json, mask, voxels,
                         volume_cc, flags_json, revision, revision_source, revision_actor)
    VALUES (@series, @set, @structure, 'manual', 'manual', 'wpl', @boxes, '[]', @mask, @voxels, @volume, @flags, 1, 'edit', @actor)
    ON CONFLICT (series_uid, set_id, structure) DO UPDATE SET
      mask = excluded.mask, voxels = excluded.voxels, volume_cc = excluded.volume_cc, flags_json = excluded.flags_json,
      revision = results.revision + 1, revision_source = 'edit', revision_actor = excluded.revision_actor,
      review_state = 'pending', reviewer = '', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`).run({
    series: input.seriesUid,
    set: sid,
    structure: input.structure,
    boxes: JSON.stringify(input.boxes ?? []),
    mask: gzipSync(input.mask, { level: 6 }),
    voxels: input.voxels,
    volume: input.volumeCc,
    flags: JSON.stringify(input.flags),
    actor: input.actor,
  });
  const row = db.prepare('SELECT revision FROM results WHERE series_uid = ? AND set_id = ? AND structure = ?').get(input.seriesUid, sid, input.structure) as { revision: number };
  return row.revision;
}
