/**
 * One step of a node job at a time: contour (a run of the persistent batch queue, so a killed node
 * resumes it where it stopped), export the RTSTRUCT (marked as an unreviewed proposal for send-now
 * rules; approved structures only once a reviewer has decided for hold-until-approved rules), and
 * send it, retrying with exponential backoff.
 *
 * Nothing is sent twice: the RTSTRUCT is written once (its path and SOP Instance UID are stored
 * before the first send attempt) and a job is marked `sent` right after the peer's success status. A
 * crash between that status and the database commit re-sends the same file with the same SOP
 * Instance UID, which a PACS or TPS stores as the same instance, not a second structure set.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DelineateError, toErrorPayload } from '../errors.js';
import type { Db } from '../store/db.js';
import { startBatch } from '../jobs/batch.js';
import { listItems } from '../jobs/runs.js';
import { exportResultsRtstruct } from '../rtstruct/export.js';
import { recordExport } from '../rtstruct/exports-log.js';
import { getResults } from '../store/results.js';
import { recordAudit, ALGORITHM_ACTOR } from '../audit/audit.js';
import { storeFiles } from '../dimse/client.js';
import { formatDestination, getDestination, parseDestination, type Destination } from '../dimse/destination.js';
import { getJob, updateJob, type NodeJob } from './store.js';

export interface RetryPolicy {
  /** First retry after this long; each next one waits twice as long, up to maxMs. */
  baseMs: number;
  maxMs: number;
  /** After this many failed attempts the job is `failed` (shown by `node status`). */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 10_000, maxMs: 600_000, maxAttempts: 10 };

export interface JobContext {
  db: Db;
  dbPath: string;
  outgoingDir: string;
  backend?: string;
  modelsDir?: string;
  callingAeTitle: string;
  sendTimeoutMs?: number;
  retry: RetryPolicy;
  signal: AbortSignal;
  log(message: string): void;
}

export function backoffMs(p: RetryPolicy, attempts: number): number {
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, attempts - 1));
}

function resolveDestination(db: Db, spec: string, callingAeTitle: string, timeoutMs?: number): Destination {
  const d = spec.includes('@') ? parseDestination(spec, { callingAeTitle }) : getDestination(db, spec);
  return { ...d, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

/** Contours the job's series with its template set through the batch queue (creates or resumes the run). */
async function contour(ctx: JobContext, job: NodeJob): Promise<void> {
  updateJob(ctx.db, job.id, { status: 'contouring' });
  const batch = startBatch({
    db: ctx.db,
    dbPath: ctx.dbPath,
    request: { templateSet: job.templateSet, series: [job.seriesUid], createdBy: `dicom node rule ${job.rule}` },
    workers: 1,
    ...(ctx.modelsDir !== undefined ? { modelsDir: ctx.modelsDir } : {}),
    ...(ctx.backend !== undefined ? { backend: ctx.backend } : {}),
    retryFailed: true,
    signal: ctx.signal,
  });
  updateJob(ctx.db, job.id, { runId: batch.runId });
  ctx.log(`job ${job.id}: contouring series ${job.seriesUid} with template set ${job.templateSet} (run ${batch.runId}${batch.resumed ? ', resumed' : ''})`);
  const res = await batch.done;
  if (res.status !== 'done') return; // stopped: the run resumes at the next start
  const item = listItems(ctx.db, res.runId).find((i) => i.seriesUid === job.seriesUid);
  if (!item || item.status !== 'done') {
    updateJob(ctx.db, job.id, { status: 'failed', lastError: `contouring failed: ${item?.error?.message ?? 'no result'}` });
    return;
  }
  updateJob(ctx.db, job.id, { status: job.sendMode === 'now' ? 'sending' : 'awaiting-approval', lastError: '' });
}

/** Writes the RTSTRUCT once; a job that has one keeps it (same SOP Instance UID on every attempt). */
function exportOnce(ctx: JobContext, job: NodeJob): NodeJob {
  if (job.rtstructPath) return job;
  mkdirSync(ctx.outgoingDir, { recursive: true });
  const out = join(ctx.outgoingDir, `job-${job.id}-${job.seriesUid.slice(-24)}.dcm`);
  const written = exportResultsRtstruct(ctx.db, job.seriesUid, out, {
    templateSet: job.templateSet,
    approvedOnly: job.sendMode === 'after-approval',
    proposal: job.sendMode === 'now',
    warn: (m) => ctx.log(`job ${job.id}: ${m}`),
  });
  updateJob(ctx.db, job.id, { rtstructPath: written.out, rtstructSop: written.sopInstanceUid });
  return getJob(ctx.db, job.id);
}

/** Hold-until-approved: ready once no structure is pending review and at least one is approved. */
function approvalState(db: Db, job: NodeJob): 'pending' | 'approved' | 'all-rejected' {
  const rows = getResults(db, job.seriesUid, job.templateSet).filter((r) => r.hasMask);
  if (rows.length === 0 || rows.some((r) => r.reviewState !== 'approved' && r.reviewState !== 'rejected')) return 'pending';
  return rows.some((r) => r.reviewState === 'approved') ? 'approved' : 'all-rejected';
}

async function send(ctx: JobContext, job: NodeJob): Promise<void> {
  const ready = exportOnce(ctx, job);
  const dest = resolveDestination(ctx.db, job.destination, ctx.callingAeTitle, ctx.sendTimeoutMs);
  const peer = formatDestination(dest);
  const attempts = ready.attempts + 1;
  let error: string | undefined;
  try {
    const [outcome] = await storeFiles(dest, [ready.rtstructPath], { signal: ctx.signal });
    if (outcome?.status === 'failed') error = `${peer} did not store the RTSTRUCT (${outcome.message})`;
  } catch (e) {
    if (e instanceof DelineateError && e.code === 'cancelled') return;
    error = (e as Error).message;
  }
  const detail = `rule ${job.rule}, node job ${job.id}, attempt ${attempts}${error ? `: ${error}` : ''}`;
  recordExport(ctx.db, {
    seriesUid: job.seriesUid,
    kind: 'send',
    path: ready.rtstructPath,
    sopInstanceUid: ready.rtstructSop,
    destination: peer,
    status: error ? 'failed' : 'ok',
    detail,
  });
  if (error === undefined) {
    ctx.db.transaction(() => {
      updateJob(ctx.db, job.id, { status: 'sent', attempts, lastError: '', sent: true });
      const structures = getResults(ctx.db, job.seriesUid, job.templateSet)
        .filter((r) => r.hasMask && (job.sendMode === 'now' ? r.reviewState !== 'rejected' : r.reviewState === 'approved'))
        .map((r) => r.structure);
      for (const structure of structures) {
        recordAudit(ctx.db, {
          actor: ALGORITHM_ACTOR,
          actorKind: 'algorithm',
          action: 'exported',
          seriesUid: job.seriesUid,
          templateSet: job.templateSet,
          structure,
          ...(job.runId !== null ? { runId: job.runId } : {}),
          detail: { target: `C-STORE to ${peer}`, rule: job.rule, sendMode: job.sendMode, sopInstanceUid: ready.rtstructSop, nodeJob: job.id },
        });
      }
    })();
    ctx.log(`job ${job.id}: sent RTSTRUCT ${ready.rtstructSop} of series ${job.seriesUid} to ${peer}`);
    return;
  }
  const giveUp = attempts >= ctx.retry.maxAttempts;
  updateJob(ctx.db, job.id, {
    status: giveUp ? 'failed' : 'sending',
    attempts,
    lastError: error,
    nextAttemptMs: Date.now() + backoffMs(ctx.retry, attempts),
  });
  ctx.log(`job ${job.id}: send to ${peer} failed (attempt ${attempts}${giveUp ? ', giving up' : `, next in ${Math.round(backoffMs(ctx.retry, attempts) / 1000)} s`}): ${error}`);
}

/** Does the next thing a job needs; returns whether anything happened (the caller loops while it does). */
export async function stepJob(ctx: JobContext, job: NodeJob): Promise<boolean> {
  try {
    switch (job.status) {
      case 'queued':
      case 'contouring':
        await contour(ctx, job);
        return true;
      case 'awaiting-approval': {
        const state = approvalState(ctx.db, job);
        if (state === 'pending') return false;
        if (state === 'all-rejected') {
          updateJob(ctx.db, job.id, { status: 'failed', lastError: 'every structure was rejected in review: nothing to send' });
          return true;
        }
        updateJob(ctx.db, job.id, { status: 'sending' });
        return true;
      }
      case 'sending':
        if (job.nextAttemptMs > Date.now()) return false;
        await send(ctx, job);
        return true;
      default:
        return false;
    }
  } catch (e) {
    if (e instanceof DelineateError && e.code === 'cancelled') return false;
    // An error that retrying cannot fix (no template set, an export refused by pre-flight): stop the job, naming why.
    const p = toErrorPayload(e);
    updateJob(ctx.db, job.id, { status: 'failed', lastError: p.message });
    ctx.log(`job ${job.id} (series ${job.seriesUid}, rule ${job.rule}) failed: ${p.message}`);
    return true;
  }
}
