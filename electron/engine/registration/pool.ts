/**
 * Runs template jobs on worker threads (node:worker_threads), at most `workers` at a time, with
 * cancellation (an AbortSignal terminates the workers: a registration has no safe point to stop
 * inside a worker without polling, and terminate() frees its memory at once) and progress.
 * Workers start through startWorker (../workers.ts), which handles TypeScript under tsx and the
 * compiled build alike.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workers.js';
import { CancelledError, fromErrorPayload, throwIfAborted, type ErrorPayload } from '../errors.js';
import { runTemplateJob, type TemplateJob, type TemplateJobResult } from './template-job.js';

export interface PoolOptions {
  /** Worker threads; 0 runs jobs on the calling thread (tests, debugging). Default: cores, at most jobs. */
  workers?: number;
  signal?: AbortSignal;
  /** Called when a job reports a stage and when one finishes. */
  onJobProgress?(index: number, message: string, finished: boolean): void;
}

interface ResultMessage {
  id: number;
  progress?: string;
  result?: TemplateJobResult;
  error?: ErrorPayload;
}

/**
 * Jobs built on demand, just before a worker takes them: a template CT is loaded when its turn
 * comes and dropped when its job is done, so memory does not grow with the size of the library.
 */
export interface LazyJobs {
  count: number;
  build(index: number): Promise<TemplateJob>;
}

/** Results in job order. Rejects with the first job error, or CancelledError on abort. */
export async function runTemplateJobs(list: TemplateJob[] | LazyJobs, opts: PoolOptions = {}): Promise<TemplateJobResult[]> {
  const signal = opts.signal;
  throwIfAborted(signal);
  const jobs: LazyJobs = Array.isArray(list) ? { count: list.length, build: (n) => Promise.resolve(list[n]!) } : list;
  const nWorkers = Math.min(jobs.count, opts.workers ?? availableParallelism());
  if (nWorkers <= 0) {
    const out: TemplateJobResult[] = [];
    for (let n = 0; n < jobs.count; n++) {
      const checkpoint = (): void => throwIfAborted(signal);
      const job = await jobs.build(n);
      throwIfAborted(signal);
      out.push(runTemplateJob(job, checkpoint, (m) => opts.onJobProgress?.(n, m, false)));
      opts.onJobProgress?.(n, 'done', true);
      // Let an abort raised by a listener between jobs be seen.
      await new Promise((r) => setImmediate(r));
    }
    return out;
  }
  const workers: Worker[] = [];
  const results: (TemplateJobResult | undefined)[] = new Array(jobs.count);
  let next = 0;
  return new Promise<TemplateJobResult[]>((resolve, reject) => {
    let settled = false;
    let running = 0;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolve(results as TemplateJobResult[]);
    };
    const onAbort = (): void => finish(new CancelledError());
    signal?.addEventListener('abort', onAbort, { once: true });
    const feed = (w: Worker): void => {
      if (settled) return;
      if (next >= jobs.count) {
        if (running === 0) finish();
        return;
      }
      const id = next++;
      running++;
      jobs.build(id).then(
        (job) => {
          if (!settled) w.postMessage({ id, job });
        },
        (err: unknown) => finish(err),
      );
    };
    for (let n = 0; n < nWorkers; n++) {
      const w = startWorker(import.meta.url, './worker');
      workers.push(w);
      w.on('message', (m: ResultMessage) => {
        if (m.progress !== undefined) {
          opts.onJobProgress?.(m.id, m.progress, false);
          return;
        }
        running--;
        if (m.error) return finish(fromErrorPayload(m.error));
        results[m.id] = m.result;
        opts.onJobProgress?.(m.id, 'done', true);
        feed(w);
        if (next >= jobs.count && running === 0) finish();
      });
      w.on('error', (err) => finish(err));
      w.on('exit', (code) => {
        if (!settled && code !== 0) finish(new Error(`registration worker exited with code ${code}`));
      });
      feed(w);
    }
  });
}
