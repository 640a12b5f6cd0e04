/**
 * delineate://app/ serves the built renderer and, under /volume/<seriesUid>, raw voxels from the
 * engine (little-endian typed array; dtype in X-Delineate-Dtype). The scheme is registered as
 * standard + secure so relative URLs, fetch and the CSP's 'self' work as on https.
 */
import { protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { EngineService } from '../engine/service.js';
import { toErrorPayload } from '../engine/errors.js';
import { APP_SCHEME, ELECTRON_CSP, routeAppUrl } from './policy.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Must run before app 'ready'. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }]);
}

export function handleAppProtocol(service: EngineService, rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const route = routeAppUrl(request.url, rendererDir);
    if (route.kind === 'reject') return new Response(route.reason, { status: 403 });
    if (route.kind === 'volume') {
      try {
        const v = await service.volumeBytes(route.seriesUid);
        return new Response(v.bytes, { headers: { 'content-type': 'application/octet-stream', 'x-delineate-dtype': v.dtype } });
      } catch (e) {
        const p = toErrorPayload(e);
        return new Response(JSON.stringify({ error: p }), { status: p.code === 'not-found' ? 404 : 500, headers: { 'content-type': 'application/json' } });
      }
    }
    let file = route.path;
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      // A client-side route (no extension) gets the app; a missing asset is a 404.
      if (extname(file) !== '') return new Response('not found', { status: 404 });
      file = join(rendererDir, 'index.html');
      body = await readFile(file);
    }
    const headers: Record<string, string> = { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'x-content-type-options': 'nosniff' };
    if (file.endsWith('.html')) headers['content-security-policy'] = ELECTRON_CSP;
    return new Response(new Uint8Array(body), { headers });
  });
}
