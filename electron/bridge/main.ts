/**
 * `node --import tsx electron/bridge/main.ts [--db FILE] [--port N] [--static DIR] [--allow-origin URL]`:
 * the engine's api on http://127.0.0.1:PORT for the browser (npm run dev) and the e2e tests.
 * Prints one line `bridge listening on URL` to stdout once it accepts requests.
 */
import { parseArgs, str, list } from '../cli/args.js';
import { defaultDatabasePath } from '../engine/paths.js';
import { startEngineHost } from '../engine/service-host.js';
import { startBridge } from './server.js';

const args = parseArgs(process.argv.slice(2), {
  db: { type: 'string' },
  port: { type: 'string' },
  static: { type: 'string' },
  'allow-origin': { type: 'list' },
});
// The engine runs in a worker thread so a long import never stalls HTTP or WebSocket traffic.
const service = startEngineHost({ dbPath: str(args, 'db') ?? defaultDatabasePath() });
const staticDir = str(args, 'static');
const bridge = await startBridge({
  service,
  port: Number(str(args, 'port') ?? 8765),
  ...(staticDir ? { staticDir } : {}),
  allowedOrigins: list(args, 'allow-origin'),
});
process.stdout.write(`bridge listening on ${bridge.url}\n`);
const stop = (): void => {
  void bridge.close().then(() => {
    service.close();
    process.exit(0);
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
