/**
 * Worker-thread entry: runs template jobs (template-job.ts) off the calling thread. Messages in:
 * {id, job}; out: {id, progress} while it runs, then {id, result} or {id, error} (the engine's
 * error payload, so the caller rethrows a DelineateError with its code and context).
 */
import { parentPort } from 'node:worker_threads';
import { toErrorPayload } from '../errors.js';
import { runTemplateJob, type TemplateJob } from './template-job.js';

interface JobMessage {
  id: number;
  job: TemplateJob;
}

if (!parentPort) throw new Error('registration worker started outside a worker thread');
const port = parentPort;
port.on('message', (msg: JobMessage) => {
  try {
    const result = runTemplateJob(msg.job, undefined, (message) => port.postMessage({ id: msg.id, progress: message }));
    const transfer: ArrayBuffer[] = [];
    for (const s of result.structures) if (s.mask) transfer.push(s.mask.prob.buffer as ArrayBuffer);
    port.postMessage({ id: msg.id, result }, transfer);
  } catch (err) {
    port.postMessage({ id: msg.id, error: toErrorPayload(err) });
  }
});
