/**
 * The review workflow behind the api (issues 7 and 8): batch runs with progress events, the review
 * of a series' stored results (with metrics when the archive holds a reference RTSTRUCT for it),
 * audited approve / reject, and the RTSTRUCT export of approved structures. The heavy work of a run
 * happens in the batch queue's worker threads (jobs/batch.ts); this file only starts, forwards and
 * reads.
 */
import { isAbsolute } from 'node:path';
import type { ApiEvents, DelineateApi, ReviewStructureInfo, RunSummary, StructureMetricsInfo, Vec3 } from '../api.js';
import { auditTrail, reviewStructures } from './audit/audit.js';
import { InputError, NotFoundError, toErrorPayload } from './errors.js';
import { evaluateSeries } from './eval/evaluate-series.js';
import { normaliseName } from './eval/evaluate-sets.js';
import { referenceCandidates } from './eval/series.js';
import { startBatch, type BatchHandle } from './jobs/batch.js';
import { itemCounts, listItems, listRuns } from './jobs/runs.js';
import type { RunEvent, RunStatus } from './jobs/types.js';
import { defaultModelsDir } from './paths.js';
import { saveStructureEdit, structureMask } from './review/edit.js';
import { rerunStructure } from './review/rerun.js';
import { exportResultsRtstruct } from './rtstruct/export.js';
import type { Db } from './store/db.js';
import { getResults } from './store/results.js';
import { defaultColor } from './store/structures.js';
import { getStructure } from './store/templates.js';

type ReviewMethods = Pick<DelineateApi, 'startRun' | 'cancelRun' | 'listRuns' | 'getReview' | 'reviewStructures' | 'exportRtstruct' | 'rerunStructure' | 'getStructureMask' | 'saveStructureEdit'>;

export interface ReviewContext {
  db: Db;
  dbPath: string;
  emit(payload: ApiEvents['runProgress']): void;
  /** Models folder for runs (default: DELINEATE_MODELS or the per-user folder; absent means atlas). */
  modelsDir?: string;
}

export interface ReviewService extends ReviewMethods {
  /** Cancels every run this service started (the service is closing). */
  cancelAll(): void;
}

/** Turns the queue's events into `runProgress` payloads, keeping the last counts of the run. */
function progressForwarder(runId: number, emit: ReviewContext['emit']): (e: RunEvent) => void {
  const state: ApiEvents['runProgress'] = { runId, done: 0, failed: 0, total: 0, status: 'pending' };
  const send = (extra: Partial<ApiEvents['runProgress']> = {}): void => emit({ ...state, ...extra });
  return (e) => {
    switch (e.type) {
      case 'run-started':
        Object.assign(state, { total: e.total, done: e.done, failed: e.failed, status: 'running' });
        return send();
      case 'run-progress':
        Object.assign(state, { total: e.total, done: e.done, failed: e.failed });
        return send(e.etaMs !== null ? { etaSeconds: Math.round(e.etaMs / 1000) } : {});
      case 'item-started':
        return send({ item: { seriesUid: e.seriesUid, status: 'running' } });
      case 'item-progress':
        return send({ item: { seriesUid: e.seriesUid, status: 'running', done: e.progress.done, total: e.progress.total } });
      case 'item-finished': {
        const o = e.outcome;
        if (o.status === 'done') state.done++;
        if (o.status === 'failed') state.failed++;
        const status = o.status === 'cancelled' ? 'pending' : o.status;
        return send({ item: { seriesUid: e.seriesUid, status, ...(o.status === 'failed' ? { error: o.error.message } : {}) } });
      }
      case 'run-finished':
        Object.assign(state, { total: e.total, done: e.done, failed: e.failed, status: e.status });
        return send();
      default:
        return undefined;
    }
  };
}

function metricsOf(m: { dice: number | null; hd95Mm: number | null; surfaceDice2mm: number | null; boxIou: number | null; wallDistanceMm: number | null; volumeDiffCc: number | null; status: string }): StructureMetricsInfo {
  return { dice: m.dice, hd95Mm: m.hd95Mm, surfaceDice2mm: m.surfaceDice2mm, boxIou: m.boxIou, wallDistanceMm: m.wallDistanceMm, volumeDiffCc: m.volumeDiffCc, status: m.status };
}

export function createReviewService(ctx: ReviewContext): ReviewService {
  const { db } = ctx;
  const running = new Map<number, BatchHandle>();

  return {
    async startRun({ templateSet, seriesUids, mode }) {
      const batch = startBatch({
        db,
        dbPath: ctx.dbPath,
        request: { templateSet, series: seriesUids, mode: mode ?? 'wpl', createdBy: 'review screen' },
        modelsDir: ctx.modelsDir ?? defaultModelsDir(),
      });
      const { runId } = batch;
      running.set(runId, batch);
      const forward = progressForwarder(runId, ctx.emit);
      batch.events.on('event', (e) => {
        if (e.type === 'run-finished') running.delete(runId); // before clients hear of it: no cancel of a finished run
        forward(e);
      });
      batch.done
        .catch((e: unknown) => {
          // A cancel already reported itself (run-finished). Anything else stopped the run (backends
          // failed to load, the database went away): say why; the queue left the run resumable
          // (jobs/runner.ts), so starting the same run again picks it up.
          const error = toErrorPayload(e);
          if (error.code === 'cancelled') return;
          let counts = { done: 0, failed: 0, total: seriesUids.length };
          try {
            counts = itemCounts(db, runId);
          } catch {
            // The database is closed (the service is shutting down): the counts stay unknown.
          }
          ctx.emit({ runId, done: counts.done, failed: counts.failed, total: counts.total, status: 'pending', error: error.message });
        })
        .finally(() => running.delete(runId));
      return { runId };
    },
    async cancelRun({ runId }) {
      const h = running.get(runId);
      if (!h) throw new NotFoundError(`run ${runId} is not running in this session`);
      h.cancel();
      return {};
    },
    async listRuns() {
      const runs: RunSummary[] = listRuns(db)
        .slice(-50)
        .reverse()
        .map((r) => ({
          runId: r.id,
          templateSet: r.templateSet,
          status: r.status as RunStatus,
          mode: r.mode,
          localizer: r.localizer,
          segmenter: r.segmenter,
          createdAt: r.createdAt,
          finishedAt: r.finishedAt,
          items: listItems(db, r.id).map((i) => ({ seriesUid: i.seriesUid, status: i.status, ...(i.error ? { error: i.error.message } : {}) })),
        }));
      return { runs };
    },
    async getReview({ seriesUid, templateSet, reference }) {
      const all = getResults(db, seriesUid, templateSet);
      // Without a named set: the set of the most recent result (a series may hold several).
      const set = templateSet ?? [...all].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0]?.templateSet ?? '';
      const rows = all.filter((r) => r.templateSet === set);
      const candidates = referenceCandidates(db, seriesUid);
      const ref = reference === undefined ? candidates[0] : candidates.find((c) => c.sopInstanceUid === reference);
      if (reference !== undefined && !ref) throw new NotFoundError(`series ${seriesUid} has no reference RTSTRUCT ${reference} in the archive`, { seriesUid });
      const labelOf = (c: { sopInstanceUid: string; label: string; path: string }): string => c.label || c.path.split(/[\\/]/).pop() || c.sopInstanceUid;
      let metrics = new Map<string, StructureMetricsInfo>();
      let metricsProblem: string | undefined;
      if (ref && rows.some((r) => r.hasMask || r.boxes.length > 0)) {
        try {
          const report = evaluateSeries(db, { seriesUid, referenceFile: ref.path, templateSet: set });
          metrics = new Map(report.structures.map((m) => [normaliseName(m.name), metricsOf(m)]));
        } catch (e) {
          metricsProblem = toErrorPayload(e).message;
        }
      }
      // Provenance: the templates of each structure's most recent algorithmic result.
      const templatesOf = new Map<string, string[]>();
      for (const e of auditTrail(db, { seriesUid, templateSet: set })) if (e.action === 'created') templatesOf.set(e.structure, e.templates);
      const structures: ReviewStructureInfo[] = rows.map((r) => ({
        templates: templatesOf.get(r.structure) ?? [],
        structure: r.structure,
        color: getStructure(db, r.structure)?.color ?? defaultColor(r.structure),
        templateSet: r.templateSet,
        state: r.reviewState,
        reviewer: r.reviewer,
        confidence: r.confidence,
        flags: r.flags.map(String),
        boxes: r.boxes.map((b) => [[...b.min] as Vec3, [...b.max] as Vec3] as [Vec3, Vec3]),
        hasMask: r.hasMask,
        volumeCc: r.volumeCc,
        revision: r.revision,
        metrics: metrics.get(normaliseName(r.structure)) ?? null,
      }));
      return {
        seriesUid,
        templateSet: set,
        structures,
        reference: ref ? { sopInstanceUid: ref.sopInstanceUid, label: labelOf(ref) } : null,
        references: candidates.map((c) => ({ sopInstanceUid: c.sopInstanceUid, label: labelOf(c) })),
        ...(metricsProblem ? { metricsProblem } : {}),
      };
    },
    async reviewStructures({ seriesUids, templateSet, structure, state, reviewer }) {
      const done = reviewStructures(
        db,
        seriesUids.map((seriesUid) => ({ seriesUid, templateSet, structure, state, reviewer })),
      );
      return { reviewed: done.length };
    },
    async exportRtstruct({ seriesUid, templateSet, outPath, reviewer }) {
      if (!isAbsolute(outPath)) throw new InputError(`export path ${outPath} must be absolute`, { seriesUid });
      const written = exportResultsRtstruct(db, seriesUid, outPath, {
        approvedOnly: true,
        actor: reviewer?.trim() || 'review screen',
        ...(templateSet ? { templateSet } : {}),
      });
      return { out: written.out, sopInstanceUid: written.sopInstanceUid, structures: written.structures.map((s) => s.name) };
    },
    async rerunStructure({ seriesUid, templateSet, structure, box, extremePoints, reviewer }) {
      const r = await rerunStructure(db, {
        seriesUid, templateSet, structure, reviewer,
        modelsDir: ctx.modelsDir ?? defaultModelsDir(),
        ...(box ? { box: { min: box[0], max: box[1] } } : {}),
        ...(extremePoints ? { extremePoints } : {}),
      });
      return { structure: r.structure, boxes: r.boxes.map((b) => [[...b.min] as Vec3, [...b.max] as Vec3] as [Vec3, Vec3]), voxels: r.voxels, volumeCc: r.volumeCc, reviewState: r.reviewState };
    },
    async getStructureMask({ seriesUid, templateSet, structure, revision }) {
      return structureMask(db, { seriesUid, templateSet, structure, ...(revision !== undefined ? { revision } : {}) });
    },
    async saveStructureEdit({ seriesUid, templateSet, structure, runs, reviewer, baseRevision }) {
      return saveStructureEdit(db, { seriesUid, templateSet, structure, runs, reviewer, ...(baseRevision !== undefined ? { baseRevision } : {}) });
    },
    cancelAll() {
      for (const h of running.values()) h.cancel();
    },
  };
}
