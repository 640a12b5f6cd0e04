/**
 * Starting a worker thread from a module that runs either as TypeScript (tsx: CLI, tests, dev) or as
 * compiled JavaScript (the packaged app). `startWorker(import.meta.url, './worker')` resolves the
 * sibling file with the right extension.
 *
 * Node 20 ignores `--import tsx` in a Worker's execArgv (the worker fails with "Unknown file
 * extension .ts"), so under tsx the worker starts from a tiny eval bootstrap that registers tsx's
 * loader first and then imports the module.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function workerUrl(base: string, relative: string): { url: URL; typescript: boolean } {
  const typescript = new URL(base).pathname.endsWith('.ts');
  return { url: new URL(`${relative}${typescript ? '.ts' : '.js'}`, base), typescript };
}

export function startWorker(base: string, relative: string, opts: WorkerOptions = {}): Worker {
  const { url, typescript } = workerUrl(base, relative);
  if (!typescript) return new Worker(url, opts);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...opts, eval: true });
}
