/**
 * The renderer's one api client. In Electron it calls window.delineate (the preload's named
 * functions); in a browser it calls the HTTP + WebSocket bridge. Both return envelopes that are
 * unwrapped here, so a DelineateError thrown in the engine arrives as one, with its name, code and
 * context. Method names come from API_METHOD_NAMES: no channel name is written here.
 */
import { API_METHOD_NAMES } from '../../../electron/api-methods.js';
import {
  type ApiEnvelope,
  type ApiEventName,
  type ApiEvents,
  type ApiMethod,
  type DelineateApi,
  type PreloadApi,
  type VolumeHandle,
} from '../../../electron/api.js';
import { fromErrorPayload } from '../../../electron/engine/errors.js';

export type EventListener = (event: ApiEventName, payload: ApiEvents[ApiEventName]) => void;

export interface ApiClient extends DelineateApi {
  readonly transport: 'electron' | 'bridge';
  onEvent(listener: EventListener): () => void;
  /** The raw voxels of an opened volume as the typed array its dtype names. */
  fetchVoxels(handle: VolumeHandle): Promise<Int16Array | Float32Array | Uint8Array>;
  close(): void;
}

type Invoke = (method: ApiMethod, req: unknown) => Promise<ApiEnvelope<unknown>>;

function unwrap<T>(env: ApiEnvelope<T>): T {
  if ('error' in env) throw fromErrorPayload(env.error);
  return env.result;
}

/** Interpret fetched bytes as the typed array of `dtype` (copying only when misaligned). */
export function typedVoxels(buf: ArrayBuffer, handle: Pick<VolumeHandle, 'dtype' | 'dims' | 'seriesUid'>): Int16Array | Float32Array | Uint8Array {
  const n = handle.dims[0] * handle.dims[1] * handle.dims[2];
  const arr = handle.dtype === 'int16' ? new Int16Array(buf) : handle.dtype === 'float32' ? new Float32Array(buf) : new Uint8Array(buf);
  if (arr.length !== n) throw new Error(`volume ${handle.seriesUid}: received ${arr.length} voxels, expected ${n}`);
  return arr;
}

function build(transport: ApiClient['transport'], invoke: Invoke, onEvent: ApiClient['onEvent'], base: string, close: () => void): ApiClient {
  const methods: Record<string, (req: unknown) => Promise<unknown>> = {};
  for (const name of API_METHOD_NAMES) methods[name] = async (req: unknown) => unwrap(await invoke(name, req ?? {}));
  return {
    ...(methods as unknown as DelineateApi),
    transport,
    onEvent,
    async fetchVoxels(handle) {
      const res = await fetch(new URL(handle.url, base));
      if (!res.ok) {
        const body = (await res.json().catch(() => undefined)) as ApiEnvelope<unknown> | undefined;
        if (body && 'error' in body) throw fromErrorPayload(body.error);
        throw new Error(`volume ${handle.seriesUid}: HTTP ${res.status}`);
      }
      return typedVoxels(await res.arrayBuffer(), handle);
    },
    close,
  };
}

/** A client over the bridge at `baseUrl` (http://127.0.0.1:PORT). WebSocket defaults to the global one. */
export function createBridgeClient(baseUrl: string, opts: { WebSocket?: typeof WebSocket } = {}): ApiClient {
  const listeners = new Set<EventListener>();
  let ws: WebSocket | undefined;
  const WS = opts.WebSocket ?? (typeof WebSocket === 'undefined' ? undefined : WebSocket);
  const connect = (): void => {
    if (ws || !WS) return;
    const u = new URL('/events', baseUrl);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WS(u.toString());
    ws.onmessage = (m: MessageEvent) => {
      const msg = JSON.parse(String(m.data)) as { event: ApiEventName; payload: ApiEvents[ApiEventName] };
      for (const l of listeners) l(msg.event, msg.payload);
    };
    ws.onclose = () => {
      ws = undefined;
    };
  };
  const invoke: Invoke = async (method, req) => {
    const res = await fetch(new URL(`/api/${method}`, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req),
    });
    const text = await res.text();
    try {
      return JSON.parse(text) as ApiEnvelope<unknown>;
    } catch {
      throw new Error(`api ${method}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
  };
  return build(
    'bridge',
    invoke,
    (l) => {
      listeners.add(l);
      connect();
      return () => listeners.delete(l);
    },
    baseUrl,
    () => {
      ws?.close();
      listeners.clear();
    },
  );
}

/** A client over the Electron preload's window.delineate. */
export function createPreloadClient(api: PreloadApi, base: string): ApiClient {
  const invoke: Invoke = (method, req) => (api[method] as (r: unknown) => Promise<ApiEnvelope<unknown>>)(req);
  return build('electron', invoke, (l) => api.onEvent(l), base, () => undefined);
}

/** window.delineate when the preload provided it, else the bridge this page was served from. */
export function createClient(): ApiClient {
  const w = globalThis as unknown as { delineate?: PreloadApi; location: { href: string; origin: string } };
  if (w.delineate) return createPreloadClient(w.delineate, w.location.href);
  return createBridgeClient(w.location.origin);
}
