/**
 * `cluster import`: brings finished shards into the archive. Every shard is verified before anything
 * is written (its result.json names this package and this manifest's sha256, its database matches
 * the sha256 recorded when it finished); one refused shard refuses the whole import, naming it.
 *
 * mergeShard is a pure function of (archive db, shard db): per series, in one transaction, it copies
 * the result rows verbatim (boxes, points, confidence, flags, the compressed mask, model hashes), the
 * algorithm's audit entries with the host and job that computed them, and a cluster_imports row.
 * That row makes a second import of the same package add nothing. A structure a planner has already
 * approved or rejected in the archive is never overwritten: the series is reported as a conflict.
 *
 * A de-identified package (deid.ts) names its series by pseudonyms: they are mapped home through
 * this archive's pseudonym tables, so only the archive that exported the package can import it; any
 * other reports each series as a conflict, saying so, and imports nothing.
 */
import { existsSync, statSync } from 'node:fs';
import { openDatabase, type Db } from '../store/db.js';
import { archiveCurrentMask } from '../store/results.js';
import { recordAudit, type ActorKind, type AuditAction } from '../audit/audit.js';
import type { ModelRef } from '../localize/localizer.js';
import { DelineateError, NotFoundError } from '../errors.js';
import { readManifest, readShardResult, sha256File, workDbPath, type PackageManifest, type ShardResult } from './package.js';

export interface SeriesMerge {
  seriesUid: string;
  outcome: 'imported' | 'already' | 'conflict' | 'failed';
  structures: number;
  host: string;
  reason?: string;
}

export interface ShardImport {
  index: number;
  state: 'imported' | 'missing';
  series: SeriesMerge[];
}

export interface ImportPackageResult {
  packageId: string;
  templateSet: string;
  imported: number;
  already: number;
  conflicts: number;
  failed: number;
  /** Shards not finished yet (no result.json): import again once they are. */
  missing: number[];
  shards: ShardImport[];
}

export interface MergeContext {
  packageId: string;
  shard: number;
  templateSet: string;
  /** From the shard's result.json: which host and job computed each series, and its status. */
  items: ShardResult['items'];
  /**
   * De-identified packages: the archive's UID for a UID of the package (a pseudonym), or undefined
   * when this archive did not issue it. Absent: the package's UIDs are the archive's.
   */
  archiveUid?(packageUid: string): string | undefined;
}

/** The original UID of a pseudonym this archive issued (any project; pseudonyms are unique). */
export function pseudonymResolver(db: Db): (uid: string) => string | undefined {
  const get = db.prepare('SELECT original FROM deid_uids WHERE pseudonym = ?');
  return (uid) => (get.get(uid) as { original: string } | undefined)?.original;
}

const RESULT_COLUMNS = ['structure', 'localizer', 'segmenter', 'mode', 'boxes_json', 'extreme_points_json', 'confidence', 'flags_json', 'mask', 'voxels', 'volume_cc', 'models_json'] as const;

export function mergeShard(db: Db, shardDb: Db, ctx: MergeContext): SeriesMerge[] {
  const set = db.prepare('SELECT id FROM template_sets WHERE name = ?').get(ctx.templateSet) as { id: number } | undefined;
  if (!set) throw new NotFoundError(`template set '${ctx.templateSet}' of package ${ctx.packageId} does not exist in this archive`, { templateSet: ctx.templateSet });
  const already = db.prepare('SELECT 1 FROM cluster_imports WHERE package_id = ? AND series_uid = ?');
  const reviewed = db.prepare(`SELECT structure, review_state FROM results WHERE series_uid = ? AND set_id = ? AND review_state <> 'pending'`);
  const shardRows = shardDb.prepare(
    `SELECT ${RESULT_COLUMNS.map((c) => `r.${c}`).join(', ')} FROM results r JOIN template_sets s ON s.id = r.set_id
     WHERE r.series_uid = ? AND s.name = ? ORDER BY r.structure`,
  );
  const shardStructures = shardDb.prepare('SELECT name, color, interpreted_type, description FROM structures WHERE name = ?');
  const shardAudit = shardDb.prepare(`SELECT * FROM audit WHERE series_uid = ? AND template_set = ? AND action = 'created' ORDER BY id`);
  const upsert = db.prepare(
    // A mask brought in is the next revision of the structure (store/results.ts): the one it
    // replaces is archived first (archiveCurrentMask), as a local re-run would.
    `INSERT INTO results (series_uid, set_id, ${RESULT_COLUMNS.join(', ')}, revision, revision_source, revision_actor)
     VALUES (@series_uid, @set_id, ${RESULT_COLUMNS.map((c) => `@${c}`).join(', ')},
             CASE WHEN @mask IS NULL THEN 0 ELSE 1 END, CASE WHEN @mask IS NULL THEN '' ELSE 'segmenter' END, coalesce(@segmenter, ''))
     ON CONFLICT (series_uid, set_id, structure) DO UPDATE SET
       ${RESULT_COLUMNS.filter((c) => c !== 'structure').map((c) => `${c} = excluded.${c}`).join(', ')},
       revision = CASE WHEN excluded.mask IS NULL THEN results.revision ELSE results.revision + 1 END,
       revision_source = CASE WHEN excluded.mask IS NULL THEN results.revision_source ELSE 'segmenter' END,
       revision_actor = CASE WHEN excluded.mask IS NULL THEN results.revision_actor ELSE excluded.segmenter END,
       review_state = 'pending', reviewer = '', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
  );
  const structure = db.prepare('INSERT OR IGNORE INTO structures (name, color, interpreted_type, description) VALUES (@name, @color, @interpreted_type, @description)');
  const record = db.prepare('INSERT INTO cluster_imports (package_id, series_uid, template_set, shard, host, job, structures) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const seriesExists = db.prepare('SELECT 1 FROM series WHERE series_uid = ?');

  const out: SeriesMerge[] = [];
  for (const item of ctx.items) {
    const home = ctx.archiveUid ? ctx.archiveUid(item.seriesUid) : item.seriesUid;
    // Reported under the archive's UID: the pseudonym is the package's business.
    const base = { seriesUid: home ?? item.seriesUid, host: item.host };
    if (item.status !== 'done') {
      out.push({ ...base, outcome: 'failed', structures: 0, reason: item.error ?? `not finished (${item.status})` });
      continue;
    }
    if (home === undefined) {
      out.push({
        ...base,
        outcome: 'conflict',
        structures: 0,
        reason: `series ${item.seriesUid} of this de-identified package is not a pseudonym this archive issued: only the archive that exported the package can import its results`,
      });
      continue;
    }
    const mapTemplate = (u: string): string => (ctx.archiveUid ? (ctx.archiveUid(u) ?? u) : u);
    const merged = db.transaction((): SeriesMerge => {
      if (already.get(ctx.packageId, home)) return { ...base, outcome: 'already', structures: 0 };
      if (!seriesExists.get(home)) {
        return { ...base, outcome: 'conflict', structures: 0, reason: `series ${home} is not in this archive` };
      }
      const locked = reviewed.all(home, set.id) as { structure: string; review_state: string }[];
      if (locked.length > 0) {
        return { ...base, outcome: 'conflict', structures: 0, reason: `already reviewed here (${locked.map((l) => `${l.structure} ${l.review_state}`).join(', ')}); reset the review to import` };
      }
      const rows = shardRows.all(item.seriesUid, ctx.templateSet) as Record<string, unknown>[];
      for (const r of rows) {
        const s = shardStructures.get(r.structure);
        if (s) structure.run(s);
        if (r.mask !== null) archiveCurrentMask(db, home, set.id, String(r.structure));
        upsert.run({ ...r, series_uid: home, set_id: set.id });
      }
      for (const a of shardAudit.all(item.seriesUid, ctx.templateSet) as Record<string, unknown>[]) {
        // Appended through recordAudit so the entry joins this archive's hash chain (audit/chain.ts);
        // the time the shard computed it is kept in the detail.
        const detail = { ...(JSON.parse(a.detail_json as string) as Record<string, unknown>), computedAt: a.at, host: item.host, job: item.job, package: ctx.packageId, shard: ctx.shard };
        recordAudit(db, {
          actor: String(a.actor),
          actorKind: a.actor_kind as ActorKind,
          action: a.action as AuditAction,
          seriesUid: home,
          templateSet: String(a.template_set),
          structure: String(a.structure),
          localizer: String(a.localizer),
          segmenter: String(a.segmenter),
          models: JSON.parse(String(a.models_json)) as ModelRef[],
          templates: (JSON.parse(String(a.templates_json)) as string[]).map(mapTemplate),
          detail,
        });
      }
      record.run(ctx.packageId, home, ctx.templateSet, ctx.shard, item.host, item.job, rows.length);
      return { ...base, outcome: 'imported', structures: rows.length };
    }).immediate();
    out.push(merged);
  }
  return out;
}

/** Why a finished shard cannot be trusted, or undefined when it checks out. */
export function shardProblem(dir: string, m: PackageManifest, manifestSha: string, k: number, r: ShardResult): string | undefined {
  const db = workDbPath(dir, k);
  if (r.packageId !== m.id) return `its result.json belongs to package ${r.packageId}, not ${m.id}`;
  if (r.manifestSha256 !== manifestSha) return 'it was processed from a different manifest (manifest.json changed since)';
  if (r.shard !== k) return `its result.json describes shard ${r.shard}`;
  const expected = new Set(m.shards.find((s) => s.index === k)?.series.map((s) => s.seriesUid) ?? []);
  if (r.items.length !== expected.size || !r.items.every((i) => expected.has(i.seriesUid))) return 'its series are not the ones the manifest assigns to it';
  if (!existsSync(db)) return `its database ${db} is missing`;
  const wal = `${db}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) return `its database ${db} was written after the shard finished (${wal} is not empty)`;
  if (sha256File(db) !== r.workDbSha256) return `its database ${db} does not match the sha256 recorded when it finished`;
  return undefined;
}

export function importPackage(db: Db, dir: string): ImportPackageResult {
  const { manifest, sha256 } = readManifest(dir);
  const finished: { k: number; r: ShardResult }[] = [];
  const missing: number[] = [];
  const refused: string[] = [];
  for (const s of manifest.shards) {
    const r = readShardResult(dir, s.index);
    if (!r) {
      missing.push(s.index);
      continue;
    }
    const problem = shardProblem(dir, manifest, sha256, s.index, r);
    if (problem) refused.push(`shard ${s.index}: ${problem}`);
    else finished.push({ k: s.index, r });
  }
  if (refused.length > 0) {
    throw new DelineateError('conflict', `package ${dir}: refusing to import (nothing was imported): ${refused.join('; ')}`, { file: dir });
  }
  const shards: ShardImport[] = missing.map((index) => ({ index, state: 'missing', series: [] }));
  const resolver = pseudonymResolver(db);
  for (const { k, r } of finished) {
    const shardDb = openDatabase(workDbPath(dir, k), { readonly: true });
    try {
      shards.push({
        index: k,
        state: 'imported',
        series: mergeShard(db, shardDb, { packageId: manifest.id, shard: k, templateSet: manifest.templateSet, items: r.items, ...(manifest.deidentified ? { archiveUid: resolver } : {}) }),
      });
    } finally {
      shardDb.close();
    }
  }
  shards.sort((a, b) => a.index - b.index);
  const count = (o: SeriesMerge['outcome']): number => shards.reduce((n, s) => n + s.series.filter((x) => x.outcome === o).length, 0);
  return {
    packageId: manifest.id,
    templateSet: manifest.templateSet,
    imported: count('imported'),
    already: count('already'),
    conflicts: count('conflict'),
    failed: count('failed'),
    missing,
    shards,
  };
}
