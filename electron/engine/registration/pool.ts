/**
 * Runs the atlas backend's jobs (template registrations, label fusions) on worker threads
 * (node:worker_threads), at most `size` at a time, with progress and cancellation.
 *
 * The workers outlive a run: a query makes four runs (ranking, registration, deformable propagation,
 * fusion) and a batch run many queries, and a fresh thread costs its start (about a second under
 * tsx) and runs the registration code unoptimised until V8 has warmed it again. Idle workers are
 * unref'd, so they never keep a process alive, and a pool idle for `idleMs` stops its workers: each
 * keeps its last query's working copy and pyramid (template-job.ts preparedQuery), hundreds of MB
 * for a clinical CT, which a workstation's long-lived engine should not hold between batches. Runs
 * on one pool take turns (a run already spreads its jobs over every worker). An abort or a failed job terminates the pool's workers (a registration
 * has no safe point to stop inside a worker without polling, and terminate() frees its memory at
 * once); the next run starts fresh ones. Workers start through startWorker (../workers.ts), which
 * handles TypeScript under tsx and the compiled build alike; the worker entry serves its kinds of job
 * with serveJobs.
 */
import { parentPort, type Worker } from 'node:worker_threads';
import { startWorker } from '../workers.js';
import { CancelledError, fromErrorPayload, throwIfAborted, toErrorPayload, type ErrorPayload } from '../errors.js';

export interface PoolOptions {
  signal?: AbortSignal;
  /** Called when a job reports a stage and when one finishes. */
  onJobProgress?(index: number, message: string, finished: boolean): void;
}

/**
 * Jobs built on demand, just before a worker takes them: a template CT is loaded when its turn
 * comes and dropped when its job is done, so memory does not grow with the size of the library.
 */
export interface LazyJobs<J> {
  count: number;
  build(index: number): Promise<J>;
}

/** A kind of job: its name in the worker entry's table, and the same work on the calling thread. */
export interface JobKind<J, R> {
  name: string;
  run(job: J, checkpoint: () => void, progress: (message: string) => void): R;
}

interface ResultMessage<R> {
  id: number;
  progress?: string;
  result?: R;
  error?: ErrorPayload;
}

function lazy<J>(list: J[] | LazyJobs<J>): LazyJobs<J> {
  return Array.isArray(list) ? { count: list.length, build: (n) => Promise.resolve(list[n]!) } : list;
}

/** Runs the jobs on the calling thread, one after another (workers: 0; tests, debugging). */
export async function runOnThread<J, R>(list: J[] | LazyJobs<J>, kind: JobKind<J, R>, opts: PoolOptions = {}): Promise<R[]> {
  const signal = opts.signal;
  throwIfAborted(signal);
  const jobs = lazy(list);
  const out: R[] = [];
  for (let n = 0; n < jobs.count; n++) {
    const checkpoint = (): void => throwIfAborted(signal);
    const job = await jobs.build(n);
    throwIfAborted(signal);
    out.push(kind.run(job, checkpoint, (m) => opts.onJobProgress?.(n, m, false)));
    opts.onJobProgress?.(n, 'done', true);
    // Let an abort raised by a listener between jobs be seen.
    await new Promise((r) => setImmediate(r));
  }
  return out;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private turn: Promise<unknown> = Promise.resolve();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `base` is import.meta.url of a module beside the worker entry, `entry` the entry's path relative
   * to it; `idleMs` how long workers wait for the next run before they are stopped (the queries of a
   * batch follow each other within a second).
   */
  constructor(
    readonly size: number,
    private readonly base: string,
    private readonly entry: string,
    readonly idleMs = 30_000,
  ) {
    if (!(size >= 1)) throw new RangeError(`a worker pool needs at least one worker, got ${size}`);
  }

  /** Results in job order. Rejects with the first job error, or CancelledError on abort. */
  run<J, R>(list: J[] | LazyJobs<J>, kind: JobKind<J, R>, opts: PoolOptions = {}): Promise<R[]> {
    const mine = this.turn.then(() => this.runNow(lazy(list), kind, opts));
    this.turn = mine.catch(() => undefined);
    return mine;
  }

  /** The threads started and not terminated (tests). */
  get threadIds(): number[] {
    return this.workers.map((w) => w.threadId);
  }

  /** Stops every worker (the next run starts new ones). */
  async terminate(): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(all.map((w) => w.terminate()));
  }

  private start(): Worker {
    const w = startWorker(this.base, this.entry);
    // A worker that dies between runs leaves the pool; a run it was serving hears of it itself.
    // The listener also keeps an idle worker's 'error' from being an unhandled event.
    const leave = (): void => {
      const at = this.workers.indexOf(w);
      if (at >= 0) this.workers.splice(at, 1);
    };
    w.on('error', leave);
    w.on('exit', leave);
    return w;
  }

  private runNow<J, R>(jobs: LazyJobs<J>, kind: JobKind<J, R>, opts: PoolOptions): Promise<R[]> {
    const signal = opts.signal;
    throwIfAborted(signal);
    const results: (R | undefined)[] = new Array(jobs.count);
    if (jobs.count === 0) return Promise.resolve([]);
    clearTimeout(this.idleTimer);
    while (this.workers.length < Math.min(this.size, jobs.count)) this.workers.push(this.start());
    const used = this.workers.slice(0, Math.min(this.size, jobs.count));
    let next = 0;
    return new Promise<R[]>((resolve, reject) => {
      let settled = false;
      let running = 0;
      const detach: (() => void)[] = [];
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        for (const d of detach) d();
        if (err) {
          // Workers may still be busy with this run's jobs: stop them all rather than let a late
          // answer reach the next run.
          void this.terminate();
          reject(err);
        } else {
          for (const w of used) w.unref();
          this.idleTimer = setTimeout(() => void this.terminate(), this.idleMs);
          this.idleTimer.unref();
          resolve(results as R[]);
        }
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
            if (!settled) w.postMessage({ id, kind: kind.name, job });
          },
          (err: unknown) => finish(err),
        );
      };
      for (const w of used) {
        const onMessage = (m: ResultMessage<R>): void => {
          if (settled) return;
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
        };
        const onError = (err: Error): void => finish(err);
        const onExit = (code: number): void => finish(new Error(`${kind.name} worker exited with code ${code}`));
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        detach.push(() => {
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        });
        w.ref();
        feed(w);
      }
    });
  }
}

/** What a worker entry does with one kind of job: the work, and the result's buffers to move, not copy. */
export interface JobHandler<J, R> {
  run(job: J, progress: (message: string) => void): R;
  transfer(result: R): ArrayBuffer[];
}

/**
 * The worker side: serves {id, kind, job} messages with the handler of that kind, answering
 * {id, progress} while it runs, then {id, result} or {id, error} (the engine's error payload, so the
 * caller rethrows a DelineateError with its code and context).
 */
export function serveJobs(handlers: Record<string, JobHandler<never, unknown>>): void {
  if (!parentPort) throw new Error('a job worker was started outside a worker thread');
  const port = parentPort;
  port.on('message', (msg: { id: number; kind: string; job: never }) => {
    try {
      const h = handlers[msg.kind];
      if (!h) throw new Error(`this worker has no job of kind ${msg.kind}`);
      const result = h.run(msg.job, (message) => port.postMessage({ id: msg.id, progress: message }));
      port.postMessage({ id: msg.id, result }, h.transfer(result));
    } catch (err) {
      port.postMessage({ id: msg.id, error: toErrorPayload(err) });
    }
  });
}
