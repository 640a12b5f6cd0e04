/**
 * Outlier template members. A clinic's archive holds mislabelled contours (a "SpinalCord" of 422 cc,
 * ten times a cord; a parotid drawn on the wrong side), and one bad template in a multi-atlas vote
 * costs every query it is selected for. Each member of a structure is compared with the structure's
 * other members on
 *   - volume (cc; of the stored mask, or of the extreme-point box when some member has no mask),
 *   - extent along each LPS axis (from its six extreme points),
 *   - position: its box centre relative to the mean box centre of the scan's other structures in
 *     the set (patients lie at different table positions, so absolute coordinates say nothing),
 * with the modified z-score of Iglewicz & Hoaglin (1993), 0.6745 (x - median) / MAD, flagged beyond
 * 3.5 (volume and extents in log, so a half and a double count alike). A structure needs 5 members
 * before any of them is judged. Flagged members are left out of the atlas backends (excludedMembers)
 * unless a person keeps them (keepTemplateMember); the flags are stored (migration 6) and recomputed
 * whenever a bulk derive or `template outliers` runs.
 */
import { gunzipSync } from 'node:zlib';
import { NotFoundError } from '../errors.js';
import type { Vec3 } from '../volume/geometry.js';
import type { Db } from './db.js';
import { getSeriesGeometry } from './archive.js';

const MIN_MEMBERS = 5;
const Z_LIMIT = 3.5;
const AXES = ['L', 'P', 'S'];

export interface MemberFeatures {
  seriesUid: string;
  volumeCc: number;
  extentMm: Vec3;
  /** Box centre minus the mean box centre of the scan's other structures; undefined when alone. */
  offsetMm?: Vec3;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Reasons per series UID for the members of one structure that are outliers (none when < 5 members). */
export function outlierReasons(members: MemberFeatures[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const judge = (values: (number | undefined)[], floor: number, describe: (x: number, med: number) => string): void => {
    const known = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
    if (known.length < MIN_MEMBERS) return;
    const med = median(known);
    const mad = Math.max(floor, median(known.map((x) => Math.abs(x - med))));
    values.forEach((x, n) => {
      if (x === undefined || !Number.isFinite(x)) return;
      if (Math.abs((0.6745 * (x - med)) / mad) <= Z_LIMIT) return;
      const key = members[n]!.seriesUid;
      out.set(key, [...(out.get(key) ?? []), describe(x, med)]);
    });
  };
  judge(members.map((m) => Math.log(Math.max(1e-3, m.volumeCc))), 0.05, (x, med) => `volume ${Math.exp(x).toFixed(1)} cc (median ${Math.exp(med).toFixed(1)} cc)`);
  for (let a = 0; a < 3; a++) {
    judge(members.map((m) => Math.log(Math.max(0.1, m.extentMm[a]!))), 0.05, (x, med) => `extent ${AXES[a]} ${Math.exp(x).toFixed(0)} mm (median ${Math.exp(med).toFixed(0)} mm)`);
    judge(members.map((m) => m.offsetMm?.[a]), 2, (x, med) => `position ${AXES[a]} ${(x - med).toFixed(0)} mm from the median, relative to the scan's other structures`);
  }
  return out;
}

interface Row {
  id: number;
  structure: string;
  series_uid: string;
  points_json: string;
  label_mask: Buffer | null;
}

function boxOf(points: Vec3[]): { min: Vec3; max: Vec3 } {
  const min = [0, 1, 2].map((a) => Math.min(...points.map((p) => p[a]!))) as Vec3;
  const max = [0, 1, 2].map((a) => Math.max(...points.map((p) => p[a]!))) as Vec3;
  return { min, max };
}

function setIdOf(db: Db, set: string): number {
  const r = db.prepare(`SELECT id FROM template_sets WHERE name = ?`).get(set) as { id: number } | undefined;
  if (!r) throw new NotFoundError(`template set '${set}' does not exist`, { templateSet: set });
  return r.id;
}

export interface FlaggedMember {
  structure: string;
  seriesUid: string;
  reasons: string[];
  kept: boolean;
}

/** Recomputes and stores the flags of every member of `set`; returns the flagged ones. */
export function flagTemplateOutliers(db: Db, set: string): FlaggedMember[] {
  const setId = setIdOf(db, set);
  const rows = db.prepare(`SELECT id, structure, series_uid, points_json, label_mask FROM template_members WHERE set_id = ? ORDER BY structure, series_uid`).all(setId) as Row[];
  const boxes = new Map(rows.map((r) => [r.id, boxOf(JSON.parse(r.points_json) as Vec3[])]));
  const centre = (id: number): Vec3 => {
    const b = boxes.get(id)!;
    return [0, 1, 2].map((a) => (b.min[a]! + b.max[a]!) / 2) as Vec3;
  };
  const byStructure = new Map<string, Row[]>();
  for (const r of rows) byStructure.set(r.structure, [...(byStructure.get(r.structure) ?? []), r]);
  const update = db.prepare(`UPDATE template_members SET outlier_json = ? WHERE id = ?`);
  const flagged: FlaggedMember[] = [];
  db.transaction(() => {
    for (const [structure, members] of byStructure) {
      const everyMask = members.every((m) => m.label_mask !== null);
      const features: MemberFeatures[] = members.map((m) => {
        const b = boxes.get(m.id)!;
        const extentMm = [0, 1, 2].map((a) => b.max[a]! - b.min[a]!) as Vec3;
        let volumeCc = (extentMm[0] * extentMm[1] * extentMm[2]) / 1000;
        if (everyMask) {
          const mask = gunzipSync(m.label_mask!);
          let n = 0;
          for (let q = 0; q < mask.length; q++) if (mask[q]) n++;
          const s = getSeriesGeometry(db, m.series_uid).spacing;
          volumeCc = (n * s[0] * s[1] * s[2]) / 1000;
        }
        const others = rows.filter((r) => r.series_uid === m.series_uid && r.structure !== structure);
        const f: MemberFeatures = { seriesUid: m.series_uid, volumeCc, extentMm };
        if (others.length > 0) {
          const c = centre(m.id);
          const mean = [0, 1, 2].map((a) => others.reduce((acc, o) => acc + centre(o.id)[a]!, 0) / others.length);
          f.offsetMm = [0, 1, 2].map((a) => c[a]! - mean[a]!) as Vec3;
        }
        return f;
      });
      const reasons = outlierReasons(features);
      for (const m of members) {
        const r = reasons.get(m.series_uid);
        update.run(r ? JSON.stringify(r) : null, m.id);
      }
    }
  })();
  for (const f of listTemplateOutliers(db, set)) flagged.push(f);
  return flagged;
}

/** The stored flags of `set` (flagged members only, kept or not). */
export function listTemplateOutliers(db: Db, set: string): FlaggedMember[] {
  const setId = setIdOf(db, set);
  const rows = db
    .prepare(`SELECT structure, series_uid, outlier_json, kept FROM template_members WHERE set_id = ? AND outlier_json IS NOT NULL ORDER BY structure, series_uid`)
    .all(setId) as { structure: string; series_uid: string; outlier_json: string; kept: number }[];
  return rows.map((r) => ({ structure: r.structure, seriesUid: r.series_uid, reasons: JSON.parse(r.outlier_json) as string[], kept: r.kept === 1 }));
}

/** A person's decision: keep a flagged member in fusion (true) or leave it out again (false). */
export function keepTemplateMember(db: Db, k: { set: string; structure: string; seriesUid: string }, keep: boolean): void {
  const r = db
    .prepare(`UPDATE template_members SET kept = ? WHERE structure = ? AND series_uid = ? AND set_id = (SELECT id FROM template_sets WHERE name = ?)`)
    .run(keep ? 1 : 0, k.structure, k.seriesUid, k.set);
  if (r.changes === 0) throw new NotFoundError(`template set '${k.set}' has no member ${k.structure} on series ${k.seriesUid}`, { templateSet: k.set, structure: k.structure, seriesUid: k.seriesUid });
}

/** Members the atlas backends leave out: flagged and not kept, as `structure\u0000seriesUid`. */
export function excludedMembers(db: Db, set: string): Set<string> {
  return new Set(listTemplateOutliers(db, set).filter((f) => !f.kept).map((f) => `${f.structure}\u0000${f.seriesUid}`));
}
