/**
 * An EngineService whose work happens in a worker thread (service-worker.ts). The Electron main
 * process uses this, so a slow import or volume decode never freezes the window (DESIGN.md: heavy
 * work never on Electron's main thread). Errors come back as payloads and are rebuilt here, so a
 * caller sees the same DelineateError (name, code, context) as with the in-process service.
 */
import { EventEmitter } from 'node:events';
import { restrictUmask } from './fs/atomic.js';
import { API_METHOD_NAMES } from '../api-methods.js';
import { type ApiEnvelope, type ApiEventName, type ApiEvents, type DelineateApi } from '../api.js';
import { DelineateError, fromErrorPayload } from './errors.js';
import type { EngineService, VolumeBytes } from './service.js';
import type { HostRequest } from './service-worker.js';
import { startWorker } from './workers.js';

type Reply = { id: number; envelope: ApiEnvelope<unknown> } | { id: number; volume: VolumeBytes } | { event: ApiEventName; payload: unknown };

export function startEngineHost(opts: { dbPath: string }): EngineService {
  restrictUmask();
  const worker = startWorker(import.meta.url, './service-worker', { workerData: { dbPath: opts.dbPath } });
  const events = new EventEmitter();
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: unknown) => void }>();
  let next = 1;
  let dead: Error | undefined;

  worker.on('message', (m: Reply) => {
    if ('event' in m) {
      events.emit(m.event, m.payload);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if ('volume' in m) p.ok(m.volume);
    else if ('error' in m.envelope) p.fail(fromErrorPayload(m.envelope.error));
    else p.ok(m.envelope.result);
  });
  const failAll = (e: Error): void => {
    dead = e;
    for (const p of pending.values()) p.fail(e);
    pending.clear();
  };
  worker.on('error', (e) => failAll(new DelineateError('internal', `engine worker failed: ${e.message}`)));
  worker.on('exit', (code) => failAll(new DelineateError('internal', `engine worker exited (${code})`)));

  function call(method: HostRequest['method'], req: unknown): Promise<unknown> {
    if (dead) return Promise.reject(dead);
    return new Promise((ok, fail) => {
      const id = next++;
      pending.set(id, { ok, fail });
      worker.postMessage({ id, method, req } satisfies HostRequest);
    });
  }

  const methods: Record<string, (req: unknown) => Promise<unknown>> = {};
  for (const name of API_METHOD_NAMES) methods[name] = (req) => call(name, req);
  return {
    ...(methods as unknown as DelineateApi),
    volumeBytes: (seriesUid) => call('volumeBytes', seriesUid) as Promise<VolumeBytes>,
    on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void) {
      events.on(event, listener);
      return () => events.off(event, listener);
    },
    close() {
      void call('close', {})
        .catch(() => undefined)
        .finally(() => void worker.terminate());
    },
  };
}
