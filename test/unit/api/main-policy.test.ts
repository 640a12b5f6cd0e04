/** The desktop window's policy: only our scheme may call the api; protocol paths cannot escape the renderer folder; the CSP forbids inline script and the network. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BRIDGE_CSP, ELECTRON_CSP, isAppUrl, routeAppUrl } from '../../../electron/main/policy.js';

test('isAppUrl accepts only delineate://app/ frames', () => {
  assert.equal(isAppUrl('delineate://app/index.html'), true);
  for (const u of ['file:///app/index.html', 'https://app/index.html', 'delineate://evil/index.html', 'delineate://user:pw@app/', 'about:blank', '', null, undefined, 'not a url']) {
    assert.equal(isAppUrl(u), false, String(u));
  }
});

test('routeAppUrl maps volumes and files, and rejects traversal and other hosts', () => {
  const root = '/opt/delineate/renderer/dist';
  assert.deepEqual(routeAppUrl('delineate://app/volume/1.2.3%2E4', root), { kind: 'volume', seriesUid: '1.2.3.4' });
  assert.deepEqual(routeAppUrl('delineate://app/', root), { kind: 'file', path: join(root, 'index.html') });
  assert.deepEqual(routeAppUrl('delineate://app/assets/index.js', root), { kind: 'file', path: join(root, 'assets/index.js') });
  // Encoded traversal either is refused or stays inside the renderer folder.
  for (const u of ['delineate://app/..%2F..%2Fetc%2Fpasswd', 'delineate://app/%2e%2e/%2e%2e/secret', 'delineate://app/a/..%5C..%5C..%5Cx']) {
    const r = routeAppUrl(u, root);
    assert.ok(r.kind === 'reject' || (r.kind === 'file' && r.path.startsWith(`${root}/`)), `${u} -> ${JSON.stringify(r)}`);
  }
  assert.equal(routeAppUrl('delineate://other/index.html', root).kind, 'reject');
  assert.equal(routeAppUrl('file:///etc/passwd', root).kind, 'reject');
});

test('CSP: script-src self only, no eval, renderer off the network in Electron', () => {
  assert.match(ELECTRON_CSP, /script-src 'self'(;|$)/);
  assert.doesNotMatch(ELECTRON_CSP, /unsafe-eval|script-src[^;]*unsafe-inline/);
  assert.match(ELECTRON_CSP, /connect-src 'self'(;|$)/);
  assert.match(BRIDGE_CSP, /connect-src 'self' ws:\/\/127\.0\.0\.1/);
});
