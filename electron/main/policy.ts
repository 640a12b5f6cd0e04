/**
 * The security policy of the desktop window, as plain data and pure functions (no Electron import),
 * so it is unit-tested in Node: the custom protocol the UI is served from, the CSP, the frames
 * allowed to call the api, and how protocol paths map to files without escaping the renderer folder.
 */
import { normalize, resolve, sep } from 'node:path';

/** UI and volumes load from delineate://app/ (a standard, secure scheme), never file://. */
export const APP_SCHEME = 'delineate';
export const APP_ORIGIN = `${APP_SCHEME}://app`;

/**
 * script-src 'self' only: no inline script, no eval. style-src allows inline styles (Svelte
 * style: directives and vtk.js set element styles). connect-src 'self' keeps the renderer off the
 * network: it reaches the engine through IPC and delineate://app/volume/ only.
 */
export const ELECTRON_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The bridge's CSP: the same, plus the loopback bridge for fetch and the event WebSocket. */
export const BRIDGE_CSP = ELECTRON_CSP.replace("connect-src 'self'", "connect-src 'self' ws://127.0.0.1:* http://127.0.0.1:* ws://localhost:*");

/** True only for our own UI's frames: the IPC binding refuses every other sender. */
export function isAppUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === 'app' && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

export type AppRoute = { kind: 'volume'; seriesUid: string } | { kind: 'file'; path: string } | { kind: 'reject'; reason: string };

/** Maps a delineate:// URL to a volume or a file under `rendererDir`; anything else is rejected. */
export function routeAppUrl(url: string, rendererDir: string): AppRoute {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { kind: 'reject', reason: 'malformed URL' };
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== 'app') return { kind: 'reject', reason: `not ${APP_ORIGIN}` };
  if (u.pathname.startsWith('/volume/')) return { kind: 'volume', seriesUid: decodeURIComponent(u.pathname.slice('/volume/'.length)) };
  const root = resolve(rendererDir);
  let rel: string;
  try {
    rel = normalize(decodeURIComponent(u.pathname)).replace(/^([/\\])+/, '');
  } catch {
    return { kind: 'reject', reason: 'malformed path' };
  }
  const file = resolve(root, rel || 'index.html');
  if (file !== root && !file.startsWith(root + sep)) return { kind: 'reject', reason: 'path outside the renderer folder' };
  return { kind: 'file', path: file };
}
