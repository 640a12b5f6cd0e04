/**
 * Window and session hardening (Electron security checklist,
 * https://www.electronjs.org/docs/latest/tutorial/security): sandboxed, isolated renderer without
 * Node; no navigation, no new windows, no webviews, no permission grants; no network requests
 * except our own scheme (and devtools).
 */
import { app, session, type WebPreferences } from 'electron';
import { APP_SCHEME } from './policy.js';

export function webPreferences(preload: string): WebPreferences {
  return {
    preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

export function hardenApp(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (e) => e.preventDefault());
    contents.on('will-redirect', (e) => e.preventDefault());
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

export function hardenSession(): void {
  const s = session.defaultSession;
  s.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
  s.webRequest.onBeforeRequest((details, callback) => {
    const ok = details.url.startsWith(`${APP_SCHEME}:`) || details.url.startsWith('devtools:');
    callback({ cancel: !ok });
  });
}
