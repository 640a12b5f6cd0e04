/**
 * The node's C-ECHO / C-STORE SCP (dcmjs-dimse 0.3.3 Scp, over our own net/tls server so that the
 * bind address and TLS are ours to set: dcmjs-dimse's Server listens on every interface).
 *
 * An instance is acknowledged only once it is durable: its data set is streamed, as received in the
 * accepted transfer syntax, behind a PS3.10 file meta header into `<incoming>/.partial-<pid>/<random>.part`;
 * when the last fragment arrives the file is fsynced, its header parsed (a malformed instance is
 * refused with a failure status, PS3.4 B.2.3, and deleted), renamed to
 * `<incoming>/<study>/<series>/<sop>.dcm`, the folder fsynced, recorded by the `onStored` hook, and
 * only then is the success status sent. A `.part` file is never acknowledged, so the next start
 * deletes what a crash left there. This is engine/fs/atomic.ts's recipe (temporary name, fsync,
 * rename, fsync of the folder) over a stream, since an instance arrives in fragments; files are
 * private to the user, and a write that fails (a full disk) is refused with Out of Resources
 * (A700, PS3.4 B.2.3) and a reason naming the operation and the path (atomic.ts storageError).
 *
 * Associations from a calling AE title not on the allowed list, or to another called AE title, are
 * rejected at association (PS3.8 9.3.4: permanent, service user, reason 3 or 7).
 */
import { createRequire } from 'node:module';
import { createWriteStream, readFileSync, statSync, type WriteStream } from 'node:fs';
import { ensurePrivateDir, PRIVATE_FILE_MODE, storageError } from '../fs/atomic.js';
import { open, rename, unlink } from 'node:fs/promises';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type * as DimseTypes from 'dcmjs-dimse';
import { readHeader } from '../dicom/header.js';
import { isSupportedTransferSyntax } from '../dicom/transfer-syntax.js';
import { part10Header } from './part10.js';

const dimse = createRequire(import.meta.url)('dcmjs-dimse') as typeof DimseTypes;
dimse.log.setLevel('silent');
const { Scp, Dataset } = dimse;
const { CEchoResponse, CStoreResponse } = dimse.responses;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, SopClass, StorageClass, TransferSyntax, Status } = dimse.constants;

type Association = DimseTypes.association.Association;
type PresentationContext = DimseTypes.association.PresentationContext;
type CStoreRequest = DimseTypes.requests.CStoreRequest;
type CEchoRequest = DimseTypes.requests.CEchoRequest;

export interface PeerInfo {
  callingAe: string;
  calledAe: string;
  address: string;
}

export interface StoredInstance {
  associationId: number;
  peer: PeerInfo;
  path: string;
  sopInstanceUid: string;
  sopClassUid: string;
  studyUid: string;
  seriesUid: string;
  modality: string;
}

export type AssociationOutcome = 'released' | 'aborted' | 'dropped';

export interface ReceiverHooks {
  /** An association was accepted; returns its id (the audit row). */
  opened(peer: PeerInfo): number;
  rejected(peer: PeerInfo, reason: string): void;
  /** Called with the file durable in its final place; throwing refuses the instance (0xA700). */
  stored(i: StoredInstance): void;
  refused(associationId: number, peer: PeerInfo, sopInstanceUid: string, reason: string): void;
  closed(associationId: number, outcome: AssociationOutcome, counts: { stored: number; refused: number }): void;
}

export interface TlsOptions {
  key: Buffer;
  cert: Buffer;
  /** CA certificates that sign accepted client certificates (with requireClientCert). */
  ca?: Buffer;
  requireClientCert?: boolean;
}

export interface ReceiverOptions {
  aeTitle: string;
  port: number;
  /** Address to listen on (default every interface). */
  bind?: string;
  incomingDir: string;
  /** Calling AE titles allowed to associate; undefined lets any in. */
  allowedCallingAes?: readonly string[];
  tls?: TlsOptions;
  /** Per-step network limit, ms (association, each PDU). */
  timeoutMs?: number;
  hooks: ReceiverHooks;
}

/** Storage SOP classes accepted: every one dcmjs-dimse knows (what is not importable is refused per instance). */
const STORAGE = new Set<string>(Object.values(StorageClass as unknown as Record<string, string>));
/** Transfer syntax preference among those proposed: uncompressed first, then any the importer decodes. */
const PREFERRED = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];

export function chooseTransferSyntax(proposed: readonly string[]): string | undefined {
  return PREFERRED.find((t) => proposed.includes(t)) ?? proposed.find((t) => isSupportedTransferSyntax(t));
}

interface Partial {
  tmp: string;
  stream: WriteStream;
  error?: Error;
  closed: Promise<void>;
}

/** Failure statuses (PS3.4 B.2.3): 0xA700 out of resources, 0xA900 data set does not match SOP class, 0xC000 cannot understand. */
const OUT_OF_RESOURCES = 0xa700;
const SOP_CLASS_MISMATCH = 0xa900;
const CANNOT_UNDERSTAND = 0xc000;

async function fsyncPath(path: string, flags: string): Promise<void> {
  const h = await open(path, flags);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** `.partial-<pid>` folders hold instances being received; never acknowledged, so safe to delete once that process is gone. */
export const PARTIAL_PREFIX = '.partial-';

/** A path component from a UID (UIDs are digits and dots; anything else is replaced). */
const safe = (uid: string): string => uid.replace(/[^0-9.]/g, '_') || 'unknown';

export class StoreReceiver {
  private server: NetServer | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly partialDir: string;
  readonly opts: ReceiverOptions;

  constructor(opts: ReceiverOptions) {
    this.opts = opts;
    // Per process: a node and a `pull` may share the incoming folder, and each cleans up only its own.
    this.partialDir = join(opts.incomingDir, PARTIAL_PREFIX + String(process.pid));
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : this.opts.port;
  }

  async listen(): Promise<void> {
    ensurePrivateDir(this.partialDir, 'receive');
    const ScpClass = this.scpClass();
    const scpOpts = {
      associationTimeout: this.opts.timeoutMs ?? 60_000,
      pduTimeout: this.opts.timeoutMs ?? 60_000,
      connectTimeout: this.opts.timeoutMs ?? 60_000,
    };
    const onSocket = (socket: Socket | TLSSocket): void => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const scp = new ScpClass(socket, scpOpts);
      // A broken connection ends the association; the 'close' handler records it as dropped.
      scp.on('networkError', () => socket.destroy());
    };
    const tls = this.opts.tls;
    const server = tls
      ? createTlsServer({ key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca } : {}), requestCert: tls.requireClientCert ?? false, rejectUnauthorized: tls.requireClientCert ?? false }, onSocket)
      : createNetServer(onSocket);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private scpClass(): new (socket: Socket | TLSSocket, opts: object) => DimseTypes.Scp {
    const { hooks, aeTitle, allowedCallingAes, incomingDir } = this.opts;
    const partialDir = this.partialDir;
    return class NodeScp extends Scp {
      private associationId = -1;
      private peer: PeerInfo = { callingAe: '', calledAe: '', address: '' };
      private outcome: AssociationOutcome = 'dropped';
      private counts = { stored: 0, refused: 0 };
      private readonly partials = new Map<CStoreRequest, Partial>();
      private readonly conn: Socket | TLSSocket;

      constructor(socket: Socket | TLSSocket, opts: object) {
        super(socket, opts);
        this.conn = socket;
        this.peer.address = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
        socket.on('close', () => {
          for (const p of this.partials.values()) {
            p.stream.destroy();
            void unlink(p.tmp).catch(() => undefined);
          }
          if (this.associationId >= 0) hooks.closed(this.associationId, this.outcome, this.counts);
        });
      }

      override associationRequested(association: Association): void {
        this.peer = { ...this.peer, callingAe: association.getCallingAeTitle().trim(), calledAe: association.getCalledAeTitle().trim() };
        const reject = (reason: number, why: string): void => {
          hooks.rejected(this.peer, why);
          this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, reason);
        };
        if (this.peer.calledAe !== aeTitle) return reject(RejectReason.CalledAeNotRecognized, `called AE title ${this.peer.calledAe} is not ${aeTitle}`);
        if (allowedCallingAes && !allowedCallingAes.includes(this.peer.callingAe)) {
          return reject(RejectReason.CallingAeNotRecognized, `calling AE title ${this.peer.callingAe} is not on the allowed list`);
        }
        for (const { context } of association.getPresentationContexts()) {
          const abstract = context.getAbstractSyntaxUid();
          if (abstract !== SopClass.Verification && !STORAGE.has(abstract)) {
            context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
            continue;
          }
          const ts = chooseTransferSyntax(context.getTransferSyntaxUids());
          if (ts) context.setResult(PresentationContextResult.Accept, ts);
          else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
        }
        this.associationId = hooks.opened(this.peer);
        this.sendAssociationAccept();
      }

      override associationReleaseRequested(): void {
        if (this.outcome === 'aborted') return;
        this.outcome = 'released';
        this.sendAssociationReleaseResponse();
      }

      /** A-ABORT ends the association at once (PS3.8 7.3): nothing after it is read; in-flight instances are dropped unacknowledged. */
      override abort(): void {
        this.outcome = 'aborted';
        this.conn.destroy();
      }

      override cEchoRequest(request: CEchoRequest, callback: (r: DimseTypes.responses.CEchoResponse) => void): void {
        const r = CEchoResponse.fromRequest(request);
        r.setStatus(Status.Success);
        callback(r);
      }

      override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): WriteStream {
        const tmp = join(partialDir, `${randomUUID()}.part`);
        const stream = createWriteStream(tmp, { highWaterMark: 1 << 20, mode: PRIVATE_FILE_MODE });
        const p: Partial = { tmp, stream, closed: Promise.resolve() };
        p.closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
        stream.on('error', (e) => (p.error = e));
        stream.write(
          part10Header({
            sopClassUid: request.getAffectedSopClassUid(),
            sopInstanceUid: request.getAffectedSopInstanceUid(),
            transferSyntaxUid: context.getAcceptedTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian,
            sourceAeTitle: this.peer.callingAe,
          }),
        );
        this.partials.set(request, p);
        return stream;
      }

      override createDatasetFromStoreWritableStream(_w: unknown, _c: PresentationContext, callback: (d: DimseTypes.Dataset) => void): void {
        // The data set stays on disk; cStoreRequest reads what it needs from the file.
        callback(new Dataset());
      }

      override cStoreRequest(request: CStoreRequest, callback: (r: DimseTypes.responses.CStoreResponse) => void): void {
        const respond = (status: number, comment?: string): void => {
          const r = CStoreResponse.fromRequest(request);
          r.setStatus(status);
          if (comment) r.setErrorComment(comment.slice(0, 64));
          callback(r);
        };
        const p = this.partials.get(request);
        const sop = request.getAffectedSopInstanceUid();
        const refuse = (status: number, reason: string): void => {
          this.counts.refused++;
          hooks.refused(this.associationId, this.peer, sop, reason);
          respond(status, reason);
        };
        if (!p) return refuse(CANNOT_UNDERSTAND, 'no data set received');
        // A refused instance's temporary file is gone before the failure status is sent.
        const discard = (): Promise<void> => unlink(p.tmp).catch(() => undefined);
        void this.finishStore(p, request)
          .then(async (outcome) => {
            this.partials.delete(request);
            if (outcome.ok) {
              this.counts.stored++;
              respond(Status.Success);
            } else {
              await discard();
              refuse(outcome.status, outcome.reason);
            }
          })
          .catch(async (e: unknown) => {
            this.partials.delete(request);
            await discard();
            refuse(OUT_OF_RESOURCES, `cannot store: ${(e as Error).message}`);
          });
      }

      /** fsync, check, rename, record: the order that makes an acknowledged instance durable. */
      private async finishStore(p: Partial, request: CStoreRequest): Promise<{ ok: true } | { ok: false; status: number; reason: string }> {
        await p.closed;
        if (p.error) return { ok: false, status: OUT_OF_RESOURCES, reason: storageError('receive', p.tmp, p.error).message };
        try {
          await fsyncPath(p.tmp, 'r+');
        } catch (e) {
          return { ok: false, status: OUT_OF_RESOURCES, reason: storageError('receive', p.tmp, e).message };
        }
        const size = statSync(p.tmp).size;
        const h = readHeader(p.tmp, readFileSync(p.tmp), size, Date.now());
        if (h.kind === 'skip') return { ok: false, status: CANNOT_UNDERSTAND, reason: h.reason.replace(`: ${p.tmp}`, '') };
        if (h.sopClassUid && h.sopClassUid !== request.getAffectedSopClassUid()) {
          return { ok: false, status: SOP_CLASS_MISMATCH, reason: `data set SOP class ${h.sopClassUid} is not ${request.getAffectedSopClassUid()}` };
        }
        if (h.sopInstanceUid !== request.getAffectedSopInstanceUid()) {
          return { ok: false, status: CANNOT_UNDERSTAND, reason: `data set SOP instance ${h.sopInstanceUid} is not ${request.getAffectedSopInstanceUid()}` };
        }
        const dir = join(incomingDir, safe(h.studyUid), safe(h.seriesUid));
        const path = join(dir, `${safe(h.sopInstanceUid)}.dcm`);
        try {
          ensurePrivateDir(dir, 'receive');
          await rename(p.tmp, path);
          await fsyncPath(dir, 'r');
        } catch (e) {
          return { ok: false, status: OUT_OF_RESOURCES, reason: e instanceof Error && e.name === 'StorageError' ? e.message : storageError('receive', path, e).message };
        }
        hooks.stored({
          associationId: this.associationId,
          peer: this.peer,
          path,
          sopInstanceUid: h.sopInstanceUid,
          sopClassUid: h.sopClassUid,
          studyUid: h.studyUid,
          seriesUid: h.seriesUid,
          modality: h.modality,
        });
        return { ok: true };
      }
    };
  }
}
