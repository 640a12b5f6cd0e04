/**
 * Worker-thread entry of the batch queue (pool.ts starts it). It opens its own connection to the
 * database, loads the work module (the backends) once, then runs items one at a time: compute, then
 * commit results and status in one transaction (commit.ts). Messages are protocol.ts's.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase, type Db } from '../store/db.js';
import { toErrorPayload } from '../errors.js';
import { executeItem, type Work, type WorkFactory } from './work.js';
import type { ToWorker, FromWorker, WorkerInit } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('electron/engine/jobs/worker.ts must run in a worker thread');
const init = workerData as WorkerInit;

function post(m: FromWorker): void {
  port!.postMessage(m);
}

let db: Db | undefined;
let work: Work | undefined;
// One signal for the worker's life: after a cancel, items still queued here stop at once too.
const controller = new AbortController();
let queue: Promise<void> = Promise.resolve();

async function start(): Promise<void> {
  try {
    db = openDatabase(init.options.dbPath);
    const mod = (await import(init.workModule)) as { createWork?: WorkFactory };
    if (typeof mod.createWork !== 'function') throw new Error(`work module ${init.workModule} exports no createWork`);
    work = await mod.createWork(init.options);
    post({ type: 'ready', backends: work.backends });
  } catch (e) {
    post({ type: 'init-failed', error: toErrorPayload(e) });
  }
}

const ready = start();

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'item':
      // One item at a time per worker; the pool never sends a second before the first's outcome.
      queue = queue.then(async () => {
        await ready;
        if (!db || !work) return;
        const outcome = await executeItem(db, work, m.task, controller.signal, (progress) => post({ type: 'progress', itemId: m.task.itemId, progress }));
        post({ type: 'outcome', itemId: m.task.itemId, outcome });
      });
      break;
    case 'cancel':
      controller.abort();
      break;
    case 'close':
      queue = queue.then(async () => {
        await work?.close?.();
        db?.close();
        port.close();
      });
      break;
    default: {
      const never: never = m;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
});
