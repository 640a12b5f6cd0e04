/**
 * `cluster work`: processes one shard of a package on whatever node runs it, with the same queue,
 * workers and pipeline as a local `delineate run` (jobs/batch.ts). The shard's database starts as a
 * copy of the package's inputs.sqlite, so the run, its items and its results live in
 * shards/<k>/work.sqlite and a killed, cancelled or pre-empted job resumes from there when it is
 * started again. When every item has finished the database is closed into one file, hashed, and
 * result.json is written beside it (the import checks that hash).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { copyFileAtomic, writeFileAtomic } from '../fs/atomic.js';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase, type Db } from '../store/db.js';
import { CancelledError, DelineateError } from '../errors.js';
import { startBatch } from '../jobs/batch.js';
import type { BackendInfo, RunEvent } from '../jobs/types.js';
import {
  INPUTS_DB,
  RESULT_FORMAT,
  readManifest,
  readShardResult,
  resultPath,
  sha256File,
  shardDir,
  shardInputFiles,
  shardOf,
  verifyFiles,
  workDbPath,
  type PackageManifest,
  type ShardResult,
  type ShardResultItem,
} from './package.js';

export interface WorkShardRequest {
  dir: string;
  shard: number;
  workers?: number;
  modelsDir?: string;
  signal?: AbortSignal;
  onEvent?(e: RunEvent): void;
  /** Who is running this (Slurm job and task, pod); recorded per series. Default: from the environment. */
  job?: string;
  /** Run the failed series of a finished shard again (a finished shard is otherwise left alone). */
  retryFailed?: boolean;
}

/** The scheduler's name for this task, from the usual environment variables. */
export function jobFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SLURM_ARRAY_JOB_ID && env.SLURM_ARRAY_TASK_ID) return `slurm:${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}`;
  if (env.SLURM_JOB_ID) return `slurm:${env.SLURM_JOB_ID}`;
  if (env.JOB_COMPLETION_INDEX !== undefined) return `k8s:${env.HOSTNAME ?? ''}`;
  return `pid:${process.pid}`;
}

/** The shard index: explicit, else SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX (Kubernetes Indexed Job). */
export function shardFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.SLURM_ARRAY_TASK_ID ?? env.JOB_COMPLETION_INDEX;
  if (v === undefined || v === '') return undefined;
  const k = Number(v);
  return Number.isInteger(k) && k >= 0 ? k : undefined;
}

function sameBackends(a: PackageManifest['backend'], b: BackendInfo): boolean {
  const key = (models: { name: string; sha256: string }[]): string => models.map((m) => `${m.name}:${m.sha256}`).sort().join(',');
  return a.localizer === b.localizer && a.segmenter === b.segmenter && key(a.models) === key(b.models);
}

/** Creates the shard database from inputs.sqlite once, then points its instance paths at this node's mount of the package. */
function openWorkDb(dir: string, k: number): Db {
  const file = workDbPath(dir, k);
  mkdirSync(shardDir(dir, k), { recursive: true });
  if (!existsSync(file)) {
    copyFileAtomic(join(dir, INPUTS_DB), file, { operation: `cluster work (shard ${k})` });
  }
  const inputs = openDatabase(join(dir, INPUTS_DB), { readonly: true });
  let rel: { sop_instance_uid: string; path: string }[];
  try {
    rel = inputs.prepare('SELECT sop_instance_uid, path FROM instances').all() as typeof rel;
  } finally {
    inputs.close();
  }
  const db = openDatabase(file);
  // The package may be mounted at another path on each node: paths are re-rooted at every start.
  const upd = db.prepare('UPDATE instances SET path = ? WHERE sop_instance_uid = ?');
  const root = resolve(dir);
  db.transaction(() => rel.forEach((r) => upd.run(join(root, r.path), r.sop_instance_uid)))();
  db.exec(`CREATE TABLE IF NOT EXISTS cluster_item_hosts (
    series_uid TEXT PRIMARY KEY, host TEXT NOT NULL, job TEXT NOT NULL, finished_at TEXT NOT NULL)`);
  return db;
}

export async function workShard(req: WorkShardRequest): Promise<ShardResult & { skipped: boolean }> {
  const { manifest, sha256: manifestSha } = readManifest(req.dir);
  const shard = shardOf(manifest, req.shard, req.dir);
  const previous = readShardResult(req.dir, req.shard);
  const current = previous && previous.packageId === manifest.id && previous.manifestSha256 === manifestSha;
  if (current && !(req.retryFailed && previous.failed > 0)) return { ...previous, skipped: true };
  verifyFiles(req.dir, manifest, shardInputFiles(manifest, req.shard, req.dir), `shard ${req.shard}`);

  const host = hostname();
  const job = req.job ?? jobFromEnv();
  const dbFile = workDbPath(req.dir, req.shard);
  const db = openWorkDb(req.dir, req.shard);
  let closed = false;
  try {
    const b = manifest.backend;
    const backend = b.requested ?? (b.localizer === 'atlas' && b.segmenter === 'atlas' ? 'atlas' : undefined);
    const batch = startBatch({
      db,
      dbPath: dbFile,
      request: { templateSet: manifest.templateSet, series: shard.series.map((s) => s.seriesUid), mode: manifest.mode, createdBy: `cluster:${job}` },
      workers: req.workers ?? 1,
      ...(req.modelsDir !== undefined ? { modelsDir: req.modelsDir } : {}),
      ...(backend !== undefined ? { backend } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      retryFailed: req.retryFailed ?? false,
    });
    let mismatch: BackendInfo | undefined;
    const hostRow = db.prepare(
      `INSERT INTO cluster_item_hosts (series_uid, host, job, finished_at) VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
       ON CONFLICT (series_uid) DO UPDATE SET host = excluded.host, job = excluded.job, finished_at = excluded.finished_at`,
    );
    batch.events.on('event', (e) => {
      if (e.type === 'backends' && !sameBackends(b, e.backends)) {
        // Before any item is claimed: nothing of another model reaches the shard's results.
        mismatch = e.backends;
        batch.cancel();
      }
      if (e.type === 'item-finished' && e.outcome.status !== 'cancelled') hostRow.run(e.seriesUid, host, job);
      req.onEvent?.(e);
    });
    const res = await batch.done;
    if (mismatch) {
      const show = (x: { localizer: string; segmenter: string; models: { name: string; sha256: string }[] }): string =>
        `${x.localizer}+${x.segmenter} [${x.models.map((m) => `${m.name}:${m.sha256.slice(0, 12)}`).join(', ')}]`;
      throw new DelineateError('model', `shard ${req.shard} on ${host}: the backends here (${show(mismatch)}) differ from the package's (${show(b)}); install the same models or export again`, {
        shard: req.shard,
      });
    }
    if (res.status !== 'done') throw new CancelledError({ shard: req.shard });
    const hosts = new Map(
      (db.prepare('SELECT series_uid, host, job FROM cluster_item_hosts').all() as { series_uid: string; host: string; job: string }[]).map((r) => [r.series_uid, r]),
    );
    const items: ShardResultItem[] = res.items.map((i) => ({
      seriesUid: i.seriesUid,
      status: i.status,
      // An item committed by a process killed before it recorded its host was redone or finished here.
      host: hosts.get(i.seriesUid)?.host ?? host,
      job: hosts.get(i.seriesUid)?.job ?? job,
      ...(i.error ? { error: i.error.message } : {}),
    }));
    db.pragma('journal_mode = DELETE');
    db.close();
    closed = true;
    const result: ShardResult = {
      format: RESULT_FORMAT,
      packageId: manifest.id,
      manifestSha256: manifestSha,
      shard: req.shard,
      host,
      job,
      finishedAt: new Date().toISOString(),
      workDbSha256: sha256File(dbFile),
      done: items.filter((i) => i.status === 'done').length,
      failed: items.filter((i) => i.status === 'failed').length,
      items,
    };
    const out = resultPath(req.dir, req.shard);
    writeFileAtomic(out, `${JSON.stringify(result, null, 1)}\n`, { operation: `cluster work (shard ${req.shard})` });
    return { ...result, skipped: false };
  } finally {
    if (!closed) db.close();
  }
}
