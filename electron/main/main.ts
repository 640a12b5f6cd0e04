/**
 * The Electron main process: lifecycle, one hardened window, the custom protocol and the IPC
 * binding. Thin on purpose (the Electron binary cannot run where this is developed and tested): all
 * logic is in the engine (run in a worker thread by service-host.ts) and in policy.ts (unit-tested).
 */
import { app, BrowserWindow } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDatabasePath } from '../engine/paths.js';
import { startEngineHost } from '../engine/service-host.js';
import { bindIpc } from './ipc.js';
import { APP_ORIGIN } from './policy.js';
import { handleAppProtocol, registerAppScheme } from './protocol.js';
import { hardenApp, hardenSession, webPreferences } from './security.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist/electron/main -> repository (or asar) root
const root = join(here, '..', '..', '..');
const rendererDir = join(root, 'renderer', 'dist');
const preload = join(root, 'dist', 'electron', 'preload', 'preload.cjs');

registerAppScheme();
hardenApp();
app.enableSandbox();

let window: BrowserWindow | undefined;

void app.whenReady().then(() => {
  hardenSession();
  const service = startEngineHost({ dbPath: process.env.DELINEATE_DB ?? defaultDatabasePath() });
  handleAppProtocol(service, rendererDir);
  const unbind = bindIpc(service, () => window);
  window = new BrowserWindow({ width: 1500, height: 950, show: false, title: 'Delineate', webPreferences: webPreferences(preload) });
  window.once('ready-to-show', () => window?.show());
  window.on('closed', () => (window = undefined));
  void window.loadURL(`${APP_ORIGIN}/index.html`);
  app.on('window-all-closed', () => {
    unbind();
    service.close();
    app.quit();
  });
});
