/**
 * The HTTP bridge's requests as a fuzz target: the real server (routing, body limits, JSON parsing,
 * the API_METHODS validators) in front of a stub service that accepts whatever passes validation,
 * so no case touches an archive. 2xx: accepted; 4xx with an error payload: refused; anything else
 * (5xx, a dropped connection): crash.
 */
import { API_METHOD_NAMES } from '../../electron/api.js';
import { startBridge, type Bridge } from '../../electron/bridge/server.js';
import type { EngineService } from '../../electron/engine/service.js';
import { byteMutate, int, pick, type Rng } from './mutate.js';
import { RefusedError, type FuzzCase, type Target } from './targets.js';

let bridge: Promise<Bridge> | undefined;

function stubService(): EngineService {
  return new Proxy({}, {
    get: (_t, key) => (key === 'on' ? () => () => undefined : async () => ({})),
  }) as EngineService;
}

const VALUES: unknown[] = ['', 'x', '1.2.3', '../../etc', 0, -1, 1e308, NaN, null, true, [], {}, [[1, 2, 3]], [[NaN, 0, 0]], { a: 1 }, 'x'.repeat(100000), Array.from({ length: 1000 }, () => [0, 0, 0])];
const KEYS = ['paths', 'seriesUid', 'set', 'structure', 'points', 'names', 'labelsPath', 'structures', 'box', 'reviewer', 'color', 'seriesUids', 'workers', 'out', '__proto__', 'constructor'];

function requestBody(r: Rng): string {
  switch (int(r, 5)) {
    case 0: return pick(r, ['', '{', 'null', '[]', '"x"', '1', '{"a":', '\u0000', '{"paths": ["/"]}']);
    case 1: return '['.repeat(50000) + ']'.repeat(50000);
    case 2: return 'x'.repeat((1 << 20) + 10); // over the body limit
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < int(r, 6); i++) o[pick(r, KEYS)] = pick(r, VALUES);
      const s = JSON.stringify(o);
      return int(r, 4) === 0 ? new TextDecoder().decode(byteMutate(r, new TextEncoder().encode(s))) : s;
    }
  }
}

export const bridgeTarget: Target = {
  name: 'bridge',
  seeds: () => [[]],
  mutate(r): FuzzCase {
    const method = int(r, 8) === 0 ? pick(r, ['', 'constructor', '__proto__', 'toString', '../x', 'volumeBytes', 'importPaths%00']) : pick(r, API_METHOD_NAMES);
    return { files: [], http: { method, contentType: int(r, 10) === 0 ? pick(r, ['text/plain', '', 'application/jsonx']) : 'application/json', body: requestBody(r) } };
  },
  async run(_paths, c) {
    bridge ??= startBridge({ service: stubService(), events: [] });
    const b = await bridge;
    const h = c.http!;
    const res = await fetch(`${b.url}/api/${h.method}`, { method: 'POST', headers: h.contentType ? { 'content-type': h.contentType } : {}, body: h.body });
    const text = await res.text();
    if (res.status >= 200 && res.status < 300) return;
    if (res.status >= 400 && res.status < 500) {
      const p = JSON.parse(text || '{}') as { error?: { message?: string } };
      throw new RefusedError(`HTTP ${res.status} ${p.error?.message ?? '(no error payload)'} [${h.method}]`);
    }
    throw new Error(`HTTP ${res.status} for ${h.method}: ${text.slice(0, 200)}`);
  },
};
