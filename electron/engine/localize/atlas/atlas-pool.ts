/**
 * The atlas backend's worker threads: one pool per thread count for the whole process, so that
 * every run of every query (ranking, registration, propagation, fusion) finds warm workers
 * (registration/pool.ts). Its worker entry is atlas-worker.ts.
 */
import { availableParallelism } from 'node:os';
import { runOnThread, WorkerPool, type JobKind, type LazyJobs, type PoolOptions } from '../../registration/pool.js';
import { runTemplateJob, type TemplateJob, type TemplateJobResult } from '../../registration/template-job.js';

export const TEMPLATE_JOBS: JobKind<TemplateJob, TemplateJobResult> = { name: 'template', run: runTemplateJob };

export interface AtlasPoolOptions extends PoolOptions {
  /** Worker threads; 0 runs the jobs on the calling thread (tests, debugging). Default: the cores. */
  workers?: number;
}

const pools = new Map<number, WorkerPool>();

/** The process's pool of `workers` threads. */
export function atlasPool(workers: number): WorkerPool {
  let pool = pools.get(workers);
  if (!pool) {
    pool = new WorkerPool(workers, import.meta.url, './atlas-worker');
    pools.set(workers, pool);
  }
  return pool;
}

/** Results in job order (see WorkerPool.run). */
export function runAtlasJobs<J, R>(list: J[] | LazyJobs<J>, kind: JobKind<J, R>, opts: AtlasPoolOptions = {}): Promise<R[]> {
  const { workers = availableParallelism(), ...rest } = opts;
  return workers <= 0 ? runOnThread(list, kind, rest) : atlasPool(workers).run(list, kind, rest);
}
