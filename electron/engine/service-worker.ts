/**
 * The engine service in a worker thread (started by service-host.ts): DICOM decoding, volume
 * assembly and SQLite run here, so the Electron main process (or the bridge) never blocks on them.
 * Messages: {id, method, req} in; {id, envelope} or {id, volume} out; {event, payload} pushed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { API_METHODS } from '../api-methods.js';
import { type ApiEventName, type ApiMethod } from '../api.js';
import { toErrorPayload } from './errors.js';
import { createEngineService } from './service.js';
import { ENGINE_ARCHIVE, ENGINE_CONTOURS } from './service-ports.js';

export interface HostRequest {
  id: number;
  method: ApiMethod | 'volumeBytes' | 'close';
  req: unknown;
}

const port = parentPort;
if (!port) throw new Error('service-worker.ts must run in a worker thread');
const { dbPath } = workerData as { dbPath: string };
const service = createEngineService({ dbPath, archive: ENGINE_ARCHIVE, contours: ENGINE_CONTOURS });
const events: ApiEventName[] = ['progress', 'runProgress'];
for (const event of events) service.on(event, (payload) => port.postMessage({ event, payload }));

port.on('message', (m: HostRequest) => {
  void (async () => {
    try {
      if (m.method === 'close') {
        service.close();
        port.postMessage({ id: m.id, envelope: { result: {} } });
        port.close();
        return;
      }
      if (m.method === 'volumeBytes') {
        const v = await service.volumeBytes(String(m.req));
        // A copy is transferred: the service keeps its cached buffer for the next request.
        const copy = v.bytes.slice();
        port.postMessage({ id: m.id, volume: { dtype: v.dtype, bytes: copy } }, [copy.buffer]);
        return;
      }
      if (!Object.prototype.hasOwnProperty.call(API_METHODS, m.method)) throw new Error(`unknown method ${m.method}`);
      const valid = API_METHODS[m.method](m.req);
      const result = await (service[m.method] as (r: unknown) => Promise<unknown>)(valid);
      port.postMessage({ id: m.id, envelope: { result } });
    } catch (e) {
      port.postMessage({ id: m.id, envelope: { error: toErrorPayload(e) } });
    }
  })();
});
