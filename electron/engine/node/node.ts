/**
 * The DICOM node: the receiver (scp.ts), series completion by quiet time, import through the
 * archive's importer, the rules, and the job loop (jobs.ts), over one database.
 *
 * A series is complete when no instance has arrived for `quietMs` (default 30 s) and no association
 * that delivered to it is still open. A series whose last association ended without a release (an
 * A-ABORT or a dropped connection) is not run on the quiet time: it waits for the sender to come back
 * (a new association clears the mark) or for `incompleteMs` (default 10 min), then is imported with
 * what arrived. Every received instance stays on disk in the incoming folder, which is the archive's
 * copy of it (the importer indexes those files in place).
 *
 * At start the node rebuilds what a crash may have left: instance files renamed into the incoming
 * folder but not recorded are recorded (their series then completes as usual), `.part` files (never
 * acknowledged) are deleted, and unfinished jobs resume.
 */
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Db } from '../store/db.js';
import { importPaths } from '../dicom/import.js';
import { parseDicomBytes } from '../dicom/parse.js';
import { readHeader } from '../dicom/header.js';
import { toErrorPayload } from '../errors.js';
import { checkRulesAgainstArchive, matchRule, type NodeRules, type SeriesAttributes } from './rules.js';
import { PARTIAL_PREFIX, StoreReceiver, type TlsOptions } from './scp.js';
import { stepJob, DEFAULT_RETRY, type RetryPolicy } from './jobs.js';
import {
  addJob,
  archiveNames,
  closeAssociation,
  finishSeries,
  knownInstancePaths,
  listJobs,
  markSeriesInterrupted,
  noteRefused,
  openAssociation,
  receivingSeries,
  recordInstance,
  recordRejectedAssociation,
  requireNodeTables,
  type NodeSeries,
} from './store.js';

export interface NodeOptions {
  db: Db;
  dbPath: string;
  aeTitle: string;
  port: number;
  bind?: string;
  incomingDir: string;
  outgoingDir: string;
  rules: NodeRules;
  /** Where the rules came from, for error messages (the rules file's path). */
  rulesSource?: string;
  /** Extra allowed calling AE titles (joined with the rules file's list); no list at all lets any in. */
  allowedCallingAes?: string[];
  quietMs?: number;
  incompleteMs?: number;
  backend?: string;
  modelsDir?: string;
  tls?: TlsOptions;
  retry?: RetryPolicy;
  sendTimeoutMs?: number;
  log?(message: string): void;
}

export type NodeEvent =
  | { type: 'association'; callingAe: string; address: string; outcome: string; stored?: number; refused?: number }
  | { type: 'refused'; callingAe: string; sopInstanceUid: string; reason: string }
  | { type: 'series-imported'; seriesUid: string; rule: string | null; importedSeries: string[] }
  | { type: 'series-import-failed'; seriesUid: string; reason: string }
  | { type: 'job'; jobId: number };

export const DEFAULT_QUIET_MS = 30_000;
export const DEFAULT_INCOMPLETE_MS = 600_000;

export class DicomNode extends EventEmitter<{ event: [NodeEvent] }> {
  private readonly receiver: StoreReceiver;
  private readonly openBySeries = new Map<string, Set<number>>();
  private readonly seriesOfAssociation = new Map<number, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly controller = new AbortController();
  /** Two loops that never wait for each other: a long contouring run must not delay completing other series. */
  private readonly loops = { series: { busy: false, done: Promise.resolve() }, jobs: { busy: false, done: Promise.resolve() } };
  readonly opts: NodeOptions;

  constructor(opts: NodeOptions) {
    super();
    this.opts = opts;
    requireNodeTables(opts.db);
    checkRulesAgainstArchive(opts.rules, archiveNames(opts.db), opts.rulesSource ?? 'rules');
    const allowed = [...(opts.rules.allowedCallingAeTitles ?? []), ...(opts.allowedCallingAes ?? [])];
    const db = opts.db;
    this.receiver = new StoreReceiver({
      aeTitle: opts.aeTitle,
      port: opts.port,
      ...(opts.bind !== undefined ? { bind: opts.bind } : {}),
      incomingDir: opts.incomingDir,
      ...(allowed.length > 0 || opts.rules.allowedCallingAeTitles ? { allowedCallingAes: allowed } : {}),
      ...(opts.tls ? { tls: opts.tls } : {}),
      hooks: {
        opened: (peer) => {
          const id = openAssociation(db, peer);
          this.log(`association ${id} from ${peer.callingAe} (${peer.address})`);
          return id;
        },
        rejected: (peer, reason) => {
          recordRejectedAssociation(db, peer, reason);
          this.log(`rejected association from ${peer.callingAe} (${peer.address}): ${reason}`);
          this.emit('event', { type: 'association', callingAe: peer.callingAe, address: peer.address, outcome: 'rejected' });
        },
        stored: (i) => {
          recordInstance(db, i, dirname(i.path), Date.now());
          let open = this.openBySeries.get(i.seriesUid);
          if (!open) this.openBySeries.set(i.seriesUid, (open = new Set()));
          open.add(i.associationId);
          let series = this.seriesOfAssociation.get(i.associationId);
          if (!series) this.seriesOfAssociation.set(i.associationId, (series = new Set()));
          series.add(i.seriesUid);
        },
        refused: (id, peer, sop, reason) => {
          if (id >= 0) noteRefused(db, id, sop, reason);
          this.log(`refused instance ${sop} from ${peer.callingAe}: ${reason}`);
          this.emit('event', { type: 'refused', callingAe: peer.callingAe, sopInstanceUid: sop, reason });
        },
        closed: (id, outcome, counts) => {
          closeAssociation(db, id, outcome, counts);
          markSeriesInterrupted(db, id, outcome !== 'released');
          for (const s of this.seriesOfAssociation.get(id) ?? []) this.openBySeries.get(s)?.delete(id);
          this.seriesOfAssociation.delete(id);
          this.log(`association ${id} ${outcome}: ${counts.stored} stored, ${counts.refused} refused`);
          this.emit('event', { type: 'association', callingAe: '', address: '', outcome, ...counts });
        },
      },
    });
  }

  get port(): number {
    return this.receiver.port;
  }

  private log(m: string): void {
    this.opts.log?.(m);
  }

  async start(): Promise<void> {
    this.recover();
    await this.receiver.listen();
    const every = Math.max(100, Math.min(1000, Math.floor((this.opts.quietMs ?? DEFAULT_QUIET_MS) / 4)));
    this.timer = setInterval(() => this.kick(), every);
    this.kick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.controller.abort();
    await this.receiver.close();
    await Promise.all([this.loops.series.done, this.loops.jobs.done]);
  }

  /** Files a crash left: `.part` files are deleted, renamed but unrecorded instances are recorded. */
  private recover(): void {
    const { db, incomingDir } = this.opts;
    removeStalePartials(incomingDir);
    const known = knownInstancePaths(db);
    let found = 0;
    const walk = (dir: string, depth: number): void => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return; // no incoming folder yet
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory() && depth < 2 && !e.name.startsWith(PARTIAL_PREFIX)) walk(p, depth + 1);
        else if (e.isFile() && depth === 2 && e.name.endsWith('.dcm') && !known.has(p)) {
          const h = readHeader(p, readFileSync(p), statSync(p).size, 0);
          if (h.kind === 'skip') continue;
          recordInstance(
            db,
            { associationId: -1, peer: { callingAe: '', calledAe: this.opts.aeTitle, address: '' }, path: p, sopInstanceUid: h.sopInstanceUid, sopClassUid: h.sopClassUid, studyUid: h.studyUid, seriesUid: h.seriesUid, modality: h.modality },
            dir,
            Date.now(),
          );
          found++;
        }
      }
    };
    walk(incomingDir, 0);
    if (found > 0) this.log(`recovered ${found} received instances that were stored but not recorded`);
  }

  /** Starts a completion pass and a job pass unless one of each is already running. */
  private kick(): void {
    for (const [name, run] of [['series', () => this.completionPass()], ['jobs', () => this.jobsPass()]] as const) {
      const l = this.loops[name];
      if (l.busy || this.controller.signal.aborted) continue;
      l.busy = true;
      l.done = run()
        .catch((e: unknown) => this.log(`node error: ${toErrorPayload(e).message}`))
        .finally(() => (l.busy = false));
    }
  }

  private async completionPass(): Promise<void> {
    const now = Date.now();
    const quiet = this.opts.quietMs ?? DEFAULT_QUIET_MS;
    const incomplete = this.opts.incompleteMs ?? DEFAULT_INCOMPLETE_MS;
    for (const s of receivingSeries(this.opts.db)) {
      const idle = now - s.lastMs;
      const open = (this.openBySeries.get(s.seriesUid)?.size ?? 0) > 0;
      const complete = open || s.interrupted ? idle >= incomplete : idle >= quiet;
      if (complete) await this.importSeries(s);
      if (this.controller.signal.aborted) return;
    }
  }

  private async jobsPass(): Promise<void> {
    const ctx = {
      db: this.opts.db,
      dbPath: this.opts.dbPath,
      outgoingDir: this.opts.outgoingDir,
      ...(this.opts.backend !== undefined ? { backend: this.opts.backend } : {}),
      ...(this.opts.modelsDir !== undefined ? { modelsDir: this.opts.modelsDir } : {}),
      callingAeTitle: this.opts.aeTitle,
      ...(this.opts.sendTimeoutMs !== undefined ? { sendTimeoutMs: this.opts.sendTimeoutMs } : {}),
      retry: this.opts.retry ?? DEFAULT_RETRY,
      signal: this.controller.signal,
      log: (m: string) => this.log(m),
    };
    for (const job of listJobs(this.opts.db, 'open')) {
      if (this.controller.signal.aborted) return;
      if (await stepJob(ctx, job)) this.emit('event', { type: 'job', jobId: job.id });
    }
  }

  private async importSeries(s: NodeSeries): Promise<void> {
    const { db } = this.opts;
    const why = s.interrupted ? ' (its sender dropped the association; imported after the incomplete timeout)' : '';
    try {
      const res = await importPaths(db, [s.folder], { signal: this.controller.signal });
      const imported = res.series.map((x) => x.seriesUid);
      const skipped = res.skipped.map((x) => x.reason);
      if (imported.length === 0 && res.objects.length === 0) {
        const reason = `nothing importable in series ${s.seriesUid}: ${skipped.join('; ') || 'no files'}`;
        finishSeries(db, s.seriesUid, 'import-failed', '', reason);
        this.log(reason);
        this.emit('event', { type: 'series-import-failed', seriesUid: s.seriesUid, reason });
        return;
      }
      const attrs = seriesAttributes(s);
      const rule = attrs ? matchRule(this.opts.rules, attrs) : undefined;
      const detail = [`${s.instances} instances from ${s.callingAe || 'unknown'} ${s.address}${why}`, ...res.warnings.map((w) => w.message), ...skipped].join('; ');
      db.transaction(() => {
        finishSeries(db, s.seriesUid, 'imported', rule?.name ?? '', detail.slice(0, 4000));
        // Images become jobs (a 4D series the importer split into phases gives one job per phase).
        if (rule) for (const uid of imported) addJob(db, { seriesUid: uid, rule: rule.name, templateSet: rule.templateSet, destination: rule.destination, sendMode: rule.send });
      })();
      this.log(`series ${s.seriesUid} complete${why}: imported ${imported.length} series${rule ? `, rule '${rule.name}' matched` : ', no rule matched'}`);
      this.emit('event', { type: 'series-imported', seriesUid: s.seriesUid, rule: rule?.name ?? null, importedSeries: imported });
    } catch (e) {
      if (this.controller.signal.aborted) return;
      const reason = `import of series ${s.seriesUid} failed: ${toErrorPayload(e).message}`;
      finishSeries(db, s.seriesUid, 'import-failed', '', reason);
      this.log(reason);
      this.emit('event', { type: 'series-import-failed', seriesUid: s.seriesUid, reason });
    }
  }
}

/** Deletes the partial-instance folders of processes that no longer run (a crash mid-transfer). */
export function removeStalePartials(incomingDir: string): void {
  let names: string[];
  try {
    names = readdirSync(incomingDir).filter((n) => n.startsWith(PARTIAL_PREFIX));
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(n.slice(PARTIAL_PREFIX.length));
    let alive = pid === process.pid;
    if (!alive && Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) rmSync(join(incomingDir, n), { recursive: true, force: true });
  }
}

/** What rules match on, from the first instance file of the series and the node's record of its sender. */
export function seriesAttributes(s: Pick<NodeSeries, 'folder' | 'callingAe'>): SeriesAttributes | undefined {
  let files: string[];
  try {
    files = readdirSync(s.folder).filter((f) => f.endsWith('.dcm'));
  } catch {
    return undefined;
  }
  for (const f of files) {
    try {
      const { dataSet } = parseDicomBytes(readFileSync(join(s.folder, f)), join(s.folder, f), { headerOnly: true });
      const text = (tag: string): string => (dataSet.string(tag) ?? '').trim();
      return {
        callingAe: s.callingAe,
        modality: text('x00080060'),
        bodyPart: text('x00180015'),
        seriesDescription: text('x0008103e'),
        protocolName: text('x00181030'),
        stationName: text('x00081010'),
      };
    } catch {
      continue; // the importer reports unreadable files; another file of the series will do
    }
  }
  return undefined;
}
