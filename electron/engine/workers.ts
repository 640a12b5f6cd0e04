/**
 * Starting a worker thread from a module that runs either as TypeScript (tsx: CLI, tests, dev) or as
 * compiled JavaScript (the packaged app). `startWorker(import.meta.url, './worker')` resolves the
 * sibling file with the right extension and, for TypeScript, loads tsx in the worker too.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function workerUrl(base: string, relative: string): { url: URL; typescript: boolean } {
  const typescript = new URL(base).pathname.endsWith('.ts');
  return { url: new URL(`${relative}${typescript ? '.ts' : '.js'}`, base), typescript };
}

export function startWorker(base: string, relative: string, opts: WorkerOptions = {}): Worker {
  const { url, typescript } = workerUrl(base, relative);
  const execArgv = [...(opts.execArgv ?? []), ...(typescript ? ['--import', 'tsx'] : [])];
  return new Worker(url, { ...opts, execArgv });
}
