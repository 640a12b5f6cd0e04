/**
 * The HTTP + WebSocket bridge: the same DelineateApi the Electron preload exposes, served on
 * 127.0.0.1 for the browser in development (`npm run dev`) and the Playwright tests.
 *
 *   POST /api/<method>   JSON request -> 200 {result} | 4xx/5xx {error: ErrorPayload}
 *   GET  /volume/<uid>   raw little-endian voxels (X-Delineate-Dtype: int16 | float32 | uint8)
 *   WS   /events         {event, payload} for every ApiEvents emission
 *   GET  /*              the built renderer (when staticDir is given), index.html for unknown paths
 *
 * Method names come from API_METHODS only. Requests are validated there before the service sees
 * them. Loopback only; the Host and Origin headers are checked so a web page the user happens to
 * visit cannot drive the api by DNS rebinding or a cross-site form post.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { API_METHODS } from '../api-methods.js';
import { ApiValidationError, type ApiEventName, type ApiMethod } from '../api.js';
import { toErrorPayload, type ErrorPayload } from '../engine/errors.js';
import type { EngineService } from '../engine/service.js';
import { BRIDGE_CSP } from '../main/policy.js';

export interface BridgeOptions {
  service: EngineService;
  /** 0 picks a free port. */
  port?: number;
  /** Built renderer to serve (renderer/dist). */
  staticDir?: string;
  /** Extra origins allowed to call the api (the Vite dev server in `npm run dev`). */
  allowedOrigins?: string[];
  /** Which events to forward (default: every ApiEvents name the service emits). */
  events?: ApiEventName[];
}

export interface Bridge {
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};


export function errorStatus(p: ErrorPayload): number {
  switch (p.code) {
    case 'bad-input':
    case 'unsupported':
    case 'preflight':
      return 400;
    case 'not-found':
      return 404;
    case 'conflict':
      return 409;
    case 'cancelled':
      return 499;
    default:
      return 500;
  }
}

export function bridgeErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof ApiValidationError) return { name: err.name, code: 'bad-input', message: err.message, context: {} };
  return toErrorPayload(err);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(json);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ApiValidationError(`request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(API_METHODS, name);
}

export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const { service } = opts;
  const server: Server = createServer();
  let port = 0;
  const hostOk = (host: string | undefined): boolean => host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  const originOk = (origin: string | undefined): boolean =>
    origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}` || (opts.allowedOrigins ?? []).includes(origin);
  const staticRoot = opts.staticDir ? resolve(opts.staticDir) : undefined;

  async function serveStatic(path: string, res: ServerResponse): Promise<void> {
    if (!staticRoot) return send(res, 404, { error: { name: 'NotFoundError', code: 'not-found', message: `no such path ${path}`, context: {} } });
    const rel = normalize(decodeURIComponent(path)).replace(/^([/\\])+/, '');
    let file = join(staticRoot, rel || 'index.html');
    if (!file.startsWith(staticRoot + sep) && file !== staticRoot) return send(res, 403, {});
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      file = join(staticRoot, 'index.html'); // client-side routes
      body = await readFile(file);
    }
    const headers: Record<string, string> = { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'x-content-type-options': 'nosniff' };
    if (file.endsWith('.html')) headers['content-security-policy'] = BRIDGE_CSP;
    res.writeHead(200, headers);
    res.end(body);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (!hostOk(req.headers.host) || !originOk(req.headers.origin)) return send(res, 403, { error: { name: 'Forbidden', code: 'bad-input', message: 'host or origin not allowed', context: {} } });
      if (url.pathname.startsWith('/api/')) {
        const name = url.pathname.slice(5);
        if (req.method !== 'POST') return send(res, 405, {});
        try {
          if (!isMethod(name)) throw new ApiValidationError(`unknown api method '${name}'`);
          if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new ApiValidationError(`${name}: content-type must be application/json`);
          const text = await readBody(req);
          let raw: unknown;
          try {
            raw = JSON.parse(text || '{}');
          } catch {
            throw new ApiValidationError(`${name}: body is not JSON`);
          }
          const valid = API_METHODS[name](raw);
          const result = await (service[name] as (r: unknown) => Promise<unknown>)(valid);
          return send(res, 200, { result });
        } catch (e) {
          const p = bridgeErrorPayload(e);
          return send(res, errorStatus(p), { error: p });
        }
      }
      if (url.pathname.startsWith('/volume/') && req.method === 'GET') {
        const uid = decodeURIComponent(url.pathname.slice(8));
        try {
          const v = await service.volumeBytes(uid);
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': String(v.bytes.byteLength),
            'x-delineate-dtype': v.dtype,
            'cache-control': 'no-store',
          });
          res.end(Buffer.from(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength));
        } catch (e) {
          const p = bridgeErrorPayload(e);
          send(res, errorStatus(p), { error: p });
        }
        return;
      }
      if (req.method !== 'GET') return send(res, 405, {});
      await serveStatic(url.pathname, res);
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { error: bridgeErrorPayload(e) });
      else res.destroy(e as Error);
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/events' || !hostOk(req.headers.host) || !originOk(req.headers.origin)) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
    });
  });
  const eventNames: ApiEventName[] = opts.events ?? ['progress', 'runProgress'];
  const unsubscribe = eventNames.map((event) =>
    service.on(event, (payload) => {
      const msg = JSON.stringify({ event, payload });
      for (const s of sockets) s.send(msg);
    }),
  );

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      for (const u of unsubscribe) u();
      for (const s of sockets) s.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
