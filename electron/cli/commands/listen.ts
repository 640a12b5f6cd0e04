/**
 * `delineate listen --aet NAME --port N [--bind ADDR] [--rules FILE] [--allow AET...] [--db FILE]`:
 * runs the DICOM node (engine/node) until SIGINT or SIGTERM: a C-ECHO / C-STORE SCP whose received
 * series are imported into the database when complete and contoured and sent as the rules say.
 * Received files go to `incoming/` beside the database (or --incoming DIR), RTSTRUCTs to `outgoing/`.
 * Progress lines go to stderr; on exit the JSON output is the node's status.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { list, req, str, type ParsedArgs } from '../args.js';
import type { CliContext, Command } from '../command.js';
import { InputError } from '../../engine/errors.js';
import { validateAeTitle } from '../../engine/dimse/destination.js';
import { DicomNode, DEFAULT_INCOMPLETE_MS, DEFAULT_QUIET_MS } from '../../engine/node/node.js';
import { readRulesFile, type NodeRules } from '../../engine/node/rules.js';
import { nodeStatus, type NodeStatus } from '../../engine/node/status.js';
import { defaultModelsDir } from '../../engine/paths.js';
import type { TlsOptions } from '../../engine/node/scp.js';

function seconds(a: ParsedArgs, name: string, fallbackMs: number): number {
  const t = str(a, name);
  if (t === undefined) return fallbackMs;
  const s = Number(t);
  if (!Number.isFinite(s) || s < 0) throw new InputError(`--${name} must be seconds, not '${t}'`);
  return Math.round(s * 1000);
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new InputError(`cannot read the ${what} ${file}: ${(e as Error).message}`, { file });
  }
}

export const listenCommand: Command = {
  path: ['listen'],
  summary: 'run the DICOM node: receive CT, import it, contour and send RTSTRUCTs as the rules say',
  usage:
    'delineate listen --aet NAME --port N [--bind ADDR] [--rules FILE] [--allow AET...] [--quiet S] [--incomplete S] [--incoming DIR] [--backend atlas|medlam] [--models DIR] [--tls-key FILE --tls-cert FILE [--tls-ca FILE]] [--db FILE]',
  flags: {
    aet: { type: 'string', description: 'our AE title (the called AE title peers must use)' },
    port: { type: 'string', description: 'TCP port to listen on' },
    bind: { type: 'string', description: 'address to listen on (default every interface)' },
    rules: { type: 'string', description: 'rules JSON file (default: import only, no contouring)' },
    allow: { type: 'list', description: 'calling AE titles allowed to send (added to the rules file\'s list; default any)' },
    quiet: { type: 'string', description: `seconds without a new instance after which a series is complete (default ${DEFAULT_QUIET_MS / 1000})` },
    incomplete: { type: 'string', description: `seconds to wait for a sender that dropped its association mid-series (default ${DEFAULT_INCOMPLETE_MS / 1000})` },
    incoming: { type: 'string', description: 'folder for received files (default incoming/ beside the database)' },
    backend: { type: 'string', description: 'force a backend for contouring: medlam or atlas' },
    models: { type: 'string', description: 'models folder' },
    'tls-key': { type: 'string', description: 'DICOM TLS: private key (PEM)' },
    'tls-cert': { type: 'string', description: 'DICOM TLS: certificate (PEM)' },
    'tls-ca': { type: 'string', description: 'DICOM TLS: CA certificates; clients must present a certificate it signed' },
    'retry-base': { type: 'string', description: 'seconds before the first send retry (doubling each time; default 10)' },
  },
  async run(a: ParsedArgs, ctx: CliContext): Promise<NodeStatus> {
    const aeTitle = validateAeTitle(req(a, 'aet'), '--aet');
    const portText = req(a, 'port');
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`--port must be 1-65535, not '${portText}'`);
    const rulesFile = str(a, 'rules');
    const rules: NodeRules = rulesFile ? readRulesFile(rulesFile) : { rules: [] };
    const key = str(a, 'tls-key');
    const cert = str(a, 'tls-cert');
    if ((key === undefined) !== (cert === undefined)) throw new InputError('--tls-key and --tls-cert go together');
    const caFile = str(a, 'tls-ca');
    const tls: TlsOptions | undefined =
      key && cert ? { key: readPem(key, 'TLS key'), cert: readPem(cert, 'TLS certificate'), ...(caFile ? { ca: readPem(caFile, 'TLS CA file'), requireClientCert: true } : {}) } : undefined;
    const base = dirname(ctx.dbPath === ':memory:' ? join(process.cwd(), 'x') : ctx.dbPath);
    const allow = list(a, 'allow').flatMap((s) => s.split(',')).map((s) => validateAeTitle(s.trim(), '--allow'));
    const backend = str(a, 'backend');
    const bind = str(a, 'bind');
    const db = ctx.db();
    const node = new DicomNode({
      db,
      dbPath: ctx.dbPath,
      aeTitle,
      port,
      ...(bind !== undefined ? { bind } : {}),
      incomingDir: str(a, 'incoming') ?? join(base, 'incoming'),
      outgoingDir: join(base, 'outgoing'),
      rules,
      ...(rulesFile ? { rulesSource: rulesFile } : {}),
      allowedCallingAes: allow,
      quietMs: seconds(a, 'quiet', DEFAULT_QUIET_MS),
      incompleteMs: seconds(a, 'incomplete', DEFAULT_INCOMPLETE_MS),
      ...(backend !== undefined ? { backend } : {}),
      modelsDir: str(a, 'models') ?? defaultModelsDir(),
      ...(tls ? { tls } : {}),
      retry: { baseMs: seconds(a, 'retry-base', 10_000), maxMs: 600_000, maxAttempts: 10 },
      log: (m) => ctx.log(`${new Date().toISOString()} ${m}`),
    });
    await node.start();
    const who = rules.allowedCallingAeTitles || allow.length > 0 ? `calling AE titles ${[...(rules.allowedCallingAeTitles ?? []), ...allow].join(', ')}` : 'any calling AE title (no --allow list)';
    ctx.log(`${new Date().toISOString()} listening as ${aeTitle} on ${bind ?? '*'}:${node.port}${tls ? ' (TLS)' : ''}, ${rules.rules.length} rules, accepting ${who}`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    ctx.log(`${new Date().toISOString()} stopping`);
    await node.stop();
    return nodeStatus(db);
  },
};
