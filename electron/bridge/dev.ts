/**
 * `npm run dev`: the bridge on 127.0.0.1:8765 and the Vite dev server on 127.0.0.1:5173 (which
 * proxies /api, /volume and /events to the bridge), in one process. Open http://127.0.0.1:5173/.
 * DELINEATE_DB picks the database (default: the per-user one).
 */
import { fileURLToPath } from 'node:url';
import { defaultDatabasePath } from '../engine/paths.js';
import { startEngineHost } from '../engine/service-host.js';
import { startBridge } from './server.js';

const port = Number(process.env.DELINEATE_BRIDGE_PORT ?? 8765);
process.env.DELINEATE_BRIDGE = `http://127.0.0.1:${port}`;
const service = startEngineHost({ dbPath: process.env.DELINEATE_DB ?? defaultDatabasePath() });
const bridge = await startBridge({ service, port, allowedOrigins: ['http://127.0.0.1:5173', 'http://localhost:5173'] });
// Loaded lazily through a variable: eslint-plugin-import-x's resolver fails inside Vite's own
// imports when it follows a static specifier for no-cycle.
const viteModule = 'vite';
const { createServer } = (await import(viteModule)) as typeof import('vite');
const vite = await createServer({ configFile: fileURLToPath(new URL('../../renderer/vite.config.ts', import.meta.url)) });
await vite.listen();
process.stdout.write(`bridge ${bridge.url}\nopen http://127.0.0.1:5173/\n`);
const stop = (): void => {
  void Promise.all([vite.close(), bridge.close()]).then(() => {
    service.close();
    process.exit(0);
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
