/**
 * C-ECHO and C-STORE SCU over dcmjs-dimse (0.3.3). One association per call; every outcome becomes a
 * DelineateError('network') that names the peer and what went wrong: connection refused or
 * unreachable, association rejected (with the PS3.8 9.3.4 result/source/reason), a presentation
 * context the peer did not accept, a timeout, or a C-STORE failure status (PS3.4 B.2.3).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { DelineateError, InputError } from '../errors.js';
import { formatDestination, type Destination } from './destination.js';

interface DimseResponse {
  getStatus(): number;
  getErrorComment?(): string | undefined;
}
export interface DimseRequest {
  on(event: 'response', cb: (r: DimseResponse) => void): void;
}
interface DimseClient {
  /** dcmjs-dimse internals: the live association's socket (undefined once closed). */
  network?: { socket?: { destroy(): void } };
  addRequest(r: DimseRequest): void;
  on(event: string, cb: (arg: unknown) => void): void;
  send(host: string, port: number, calling: string, called: string, opts: Record<string, unknown>): void;
  abort(): void;
}
interface DimseModule {
  Client: new () => DimseClient;
  requests: { CEchoRequest: new () => DimseRequest; CStoreRequest: new (file: string) => DimseRequest };
  log: { setLevel(level: string): void };
}

const dimse = createRequire(import.meta.url)('dcmjs-dimse') as DimseModule;
dimse.log.setLevel('silent');

export interface SendOptions {
  signal?: AbortSignal;
  /** Bound on the whole association, ms (default: the destination's timeout x (2 + requests)). */
  totalMs?: number;
}

/** PS3.8 Table 9-21: A-ASSOCIATE-RJ source and reason. */
export function describeReject(r: { result?: number; source?: number; reason?: number }): string {
  const permanence = r.result === 2 ? 'transient' : 'permanent';
  let why = `source ${r.source}, reason ${r.reason}`;
  if (r.source === 1) {
    why = ({ 1: 'no reason given', 2: 'application context not supported', 3: 'calling AE title not recognized', 7: 'called AE title not recognized' } as Record<number, string>)[r.reason ?? 0] ?? why;
  } else if (r.source === 2) {
    why = ({ 1: 'no reason given', 2: 'protocol version not supported' } as Record<number, string>)[r.reason ?? 0] ?? why;
  } else if (r.source === 3) {
    why = ({ 1: 'temporary congestion', 2: 'local limit exceeded' } as Record<number, string>)[r.reason ?? 0] ?? why;
  }
  return `${permanence} rejection: ${why}`;
}

/** PS3.4 B.2.3 / PS3.7 C: success 0x0000, warnings 0x0001, 0xB000, 0xB006, 0xB007, everything else a failure. */
export function storeStatusKind(status: number): 'success' | 'warning' | 'failure' {
  if (status === 0) return 'success';
  if (status === 0x0001 || (status & 0xf000) === 0xb000) return 'warning';
  return 'failure';
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(4, '0').toUpperCase()}`;
}

/** Runs one association with `requests`, resolving when it is released (query.ts uses it for C-FIND and C-MOVE). */
export function associate(dest: Destination, requests: DimseRequest[], opts: SendOptions): Promise<void> {
  const peer = formatDestination(dest);
  const totalMs = opts.totalMs ?? dest.timeoutMs * (2 + requests.length);
  return new Promise<void>((resolve, reject) => {
    const client = new dimse.Client();
    for (const r of requests) client.addRequest(r);
    let settled = false;
    const finish = (err?: DelineateError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      opts.signal?.removeEventListener('abort', onAbort);
      // After a failure dcmjs-dimse only half-closes its socket; a peer that never closes its side
      // would keep the process alive (the CLI would never exit), so the socket is destroyed here.
      if (err) client.network?.socket?.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = (): void => {
      try {
        client.abort();
      } catch {
        // The association may not exist yet; the rejection below is what the caller needs.
      }
      finish(new DelineateError('cancelled', `sending to ${peer} cancelled`));
    };
    // dcmjs-dimse checks its own timeouts once a second; this bounds the whole association.
    const watchdog = setTimeout(() => {
      try {
        client.abort();
      } catch {
        // nothing to abort
      }
      finish(new DelineateError('network', `no answer from ${peer} within ${Math.round(totalMs / 1000)} s`, { destination: peer }));
    }, totalMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    client.on('associationRejected', (r) => finish(new DelineateError('network', `${peer} refused the association (${describeReject(r as object)})`, { destination: peer })));
    client.on('networkError', (e) => {
      const msg = (e as Error).message ?? String(e);
      const why = /ECONNREFUSED/.test(msg)
        ? 'connection refused (nothing listening on that port?)'
        : /timeout/i.test(msg)
          ? `timed out after ${dest.timeoutMs / 1000} s`
          : /EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN/.test(msg)
            ? `host unreachable (${msg.replace(/^.*Connection error: /, '')})`
            : msg;
      finish(new DelineateError('network', `${peer}: ${why}`, { destination: peer }));
    });
    client.on('closed', () => finish());
    try {
      client.send(dest.host, dest.port, dest.callingAeTitle, dest.aeTitle, {
        connectTimeout: dest.timeoutMs,
        associationTimeout: dest.timeoutMs,
        pduTimeout: dest.timeoutMs,
      });
    } catch (cause) {
      finish(new DelineateError('network', `cannot contact ${peer}: ${(cause as Error).message}`, { destination: peer }, { cause }));
    }
  });
}

/** C-ECHO: verifies that the peer answers and accepts our AE titles. */
export async function echo(dest: Destination, opts: SendOptions = {}): Promise<void> {
  const req = new dimse.requests.CEchoRequest();
  let status: number | undefined;
  req.on('response', (r) => (status = r.getStatus()));
  await associate(dest, [req], opts);
  const peer = formatDestination(dest);
  if (status === undefined) throw new DelineateError('network', `${peer} accepted the association but did not answer the C-ECHO (Verification not supported?)`, { destination: peer });
  if (status !== 0) throw new DelineateError('network', `${peer} answered the C-ECHO with status ${hex(status)}`, { destination: peer });
}

export interface StoreOutcome {
  file: string;
  /** 'success', 'warning' (stored with coercion or similar) or 'failed'. */
  status: 'success' | 'warning' | 'failed';
  statusCode?: number;
  message?: string;
}

/** C-STORE of each file in one association; per-file outcomes (association-level failures throw). */
export async function storeFiles(dest: Destination, files: string[], opts: SendOptions = {}): Promise<StoreOutcome[]> {
  if (files.length === 0) throw new InputError('no files to send');
  for (const f of files) if (!existsSync(f)) throw new InputError(`cannot send ${f}: no such file`, { file: f });
  const outcomes: StoreOutcome[] = files.map((file) => ({ file, status: 'failed', message: 'no response: the peer did not accept this SOP class or transfer syntax' }));
  const requests = files.map((file, i) => {
    let req: DimseRequest;
    try {
      req = new dimse.requests.CStoreRequest(file);
    } catch (cause) {
      throw new InputError(`cannot send ${file}: not a readable DICOM file (${(cause as Error).message})`, { file }, { cause });
    }
    req.on('response', (r) => {
      const code = r.getStatus();
      const kind = storeStatusKind(code);
      const comment = r.getErrorComment?.();
      outcomes[i] = {
        file,
        status: kind === 'failure' ? 'failed' : kind,
        statusCode: code,
        ...(kind !== 'success' ? { message: `status ${hex(code)}${comment ? `: ${comment}` : ''}` } : {}),
      };
    });
    return req;
  });
  await associate(dest, requests, opts);
  return outcomes;
}
