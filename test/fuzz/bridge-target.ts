/**
 * The HTTP bridge's requests as a fuzz target: the real server (routing, body limits, JSON parsing,
 * the API_METHODS validators) in front of the real engine service over a temporary archive in the
 * fuzz worker's folder, holding one phantom CT series (the value '$SERIES' in a request becomes its
 * UID, so requests reach the engine past "no such series"). Every value under a key that names a
 * file or folder is put inside that folder, so no case imports or writes outside it; a DICOM node a
 * case started is stopped after it. 2xx: accepted; 4xx with an error payload: refused; anything
 * else (5xx, a dropped connection): crash.
 */
import { join } from 'node:path';
import { API_METHOD_NAMES } from '../../electron/api-methods.js';
import { startBridge, type Bridge } from '../../electron/bridge/server.js';
import { createEngineService } from '../../electron/engine/service.js';
import { ENGINE_ARCHIVE, ENGINE_CONTOURS } from '../../electron/engine/service-ports.js';
import { writePhantomSeries } from '../fixtures/phantom/phantom.js';
import { byteMutate, int, pick, type Rng } from './mutate.js';
import { RefusedError, type FuzzCase, type Target } from './targets.js';

interface Live {
  bridge: Bridge;
  sandbox: string;
  seriesUid: string;
}

let live: Promise<Live> | undefined;

async function startLive(): Promise<Live> {
  const sandbox = join(process.env.DELINEATE_FUZZ_TMP ?? '/tmp', 'bridge');
  // Caches, models and backups of this service stay in the sandbox (paths.ts).
  process.env.DELINEATE_HOME = join(sandbox, 'home');
  process.env.DELINEATE_MODELS = join(sandbox, 'models');
  const ph = writePhantomSeries(join(sandbox, 'ct'), { seed: 'fuzz-bridge', columns: 16, rows: 16, slices: 4 });
  const service = createEngineService({ dbPath: join(sandbox, 'archive.sqlite'), archive: ENGINE_ARCHIVE, contours: ENGINE_CONTOURS });
  await service.importPaths({ paths: [join(sandbox, 'ct')] });
  const bridge = await startBridge({ service, events: [] });
  // The first request initialises fetch and the bridge's lazy parts (about a second here): done
  // while warming, not inside the first case's 10 s limit.
  await (await fetch(`${bridge.url}/api/listSeries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).text();
  return { bridge, sandbox, seriesUid: ph.seriesUid };
}

const PATH_KEY = /path|out|dir|folder|incoming|file/i;

/** '$SERIES' becomes the archive's series; file and folder values are put inside the sandbox. */
function localize(v: unknown, key: string, l: Live, depth = 0): unknown {
  // Deeper than any request of the API: left as it is, for the validators to refuse.
  if (depth > 64) return v;
  if (typeof v === 'string') {
    if (v === '$SERIES') return l.seriesUid;
    return PATH_KEY.test(key) ? join(l.sandbox, 'io', v.replace(/[/\\]|\.\./g, '_').slice(0, 100) || 'empty') : v;
  }
  if (Array.isArray(v)) return v.map((x) => localize(x, key, l, depth + 1));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, localize(x, k, l, depth + 1)]));
  return v;
}

function localizeBody(body: string, l: Live): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body; // not JSON: sent as it is, for the parser to refuse
  }
  try {
    return JSON.stringify(localize(parsed, '', l));
  } catch {
    return body; // nested too deep to re-encode (50,000 levels): sent as it is
  }
}

const VALUES: unknown[] = ['$SERIES', ['$SERIES'], '', 'x', '1.2.3', '../../etc', 0, -1, 1e308, NaN, null, true, [], {}, [[1, 2, 3]], [[NaN, 0, 0]], { a: 1 }, 'x'.repeat(100000), Array.from({ length: 1000 }, () => [0, 0, 0])];
const KEYS = ['paths', 'seriesUid', 'seriesUids', 'templateSet', 'port', 'aeTitle', 'incomingDir', 'rules', 'from', 'state', 'set', 'structure', 'points', 'names', 'labelsPath', 'structures', 'box', 'reviewer', 'color', 'seriesUids', 'workers', 'out', '__proto__', 'constructor'];

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
  async warm() {
    live ??= startLive();
    await live;
  },
  async run(_paths, c) {
    live ??= startLive();
    const l = await live;
    const h = c.http!;
    const res = await fetch(`${l.bridge.url}/api/${h.method}`, { method: 'POST', headers: h.contentType ? { 'content-type': h.contentType } : {}, body: localizeBody(h.body, l) });
    const text = await res.text();
    if (h.method === 'nodeStart' && res.ok) await fetch(`${l.bridge.url}/api/nodeStop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    if (res.status >= 200 && res.status < 300) return;
    if (res.status >= 400 && res.status < 500) {
      const p = JSON.parse(text || '{}') as { error?: { message?: string } };
      throw new RefusedError(`HTTP ${res.status} ${p.error?.message ?? '(no error payload)'} [${h.method}]`);
    }
    throw new Error(`HTTP ${res.status} for ${h.method}: ${text.slice(0, 200)}`);
  },
};
