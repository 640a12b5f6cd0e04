/**
 * Commits one item: every structure's localization and mask, the audit entries and the item's `done`
 * status in ONE transaction. SQLite (WAL) makes it all-or-nothing across a SIGKILL or power cut, so
 * after any crash an item is either `done` with all of its results or has none of this attempt's.
 * The status update is guarded (`WHERE status = 'running'`): an item that was cancelled or taken over
 * in the meantime rolls the whole transaction back instead of storing its results twice.
 */
import type { Db } from '../store/db.js';
import { DelineateError, toErrorPayload, type ErrorPayload } from '../errors.js';
import { upsertLocalization, upsertSegmentation } from '../store/results.js';
import { ALGORITHM_ACTOR, recordAudit } from '../audit/audit.js';
import type { ItemOutput, ItemTask } from './types.js';

export class ItemNotClaimedError extends DelineateError {
  override readonly name = 'ItemNotClaimedError';
  constructor(task: ItemTask) {
    super('conflict', `run ${task.runId} item for series ${task.seriesUid} is no longer claimed by this worker; its results were not stored`, {
      seriesUid: task.seriesUid,
    });
  }
}

export function commitItemSuccess(db: Db, task: ItemTask, out: ItemOutput, durationMs: number): number {
  const masks = new Map(out.segmented.map((s) => [s.name, s]));
  db.transaction(() => {
    if (out.localized.length > 0) {
      upsertLocalization(db, {
        seriesUid: task.seriesUid,
        templateSet: task.templateSet,
        localizer: out.backends.localizer,
        mode: out.mode,
        models: out.backends.models,
        structures: out.localized,
      });
    }
    if (out.segmented.length > 0) {
      upsertSegmentation(db, {
        seriesUid: task.seriesUid,
        templateSet: task.templateSet,
        segmenter: out.backends.segmenter,
        models: out.backends.models,
        structures: out.segmented.map((s) => ({ name: s.name, mask: s.mask, voxels: s.voxels, volumeCc: s.volumeCc, confidence: s.confidence, flags: s.flags })),
      });
    }
    const names = [...new Set([...out.localized.map((s) => s.name), ...out.segmented.map((s) => s.name)])];
    for (const name of names) {
      const seg = masks.get(name);
      recordAudit(db, {
        actor: ALGORITHM_ACTOR,
        actorKind: 'algorithm',
        action: 'created',
        seriesUid: task.seriesUid,
        templateSet: task.templateSet,
        structure: name,
        runId: task.runId,
        localizer: out.backends.localizer,
        segmenter: seg ? out.backends.segmenter : '',
        models: out.backends.models,
        templates: out.templates[name] ?? [],
        detail: { mode: out.mode, ...(seg ? { voxels: seg.voxels } : {}) },
      });
    }
    const r = db
      .prepare(
        `UPDATE run_items SET status = 'done', error_json = NULL, backends_json = ?, structures = ?, duration_ms = ?,
           finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE id = ? AND status = 'running'`,
      )
      .run(JSON.stringify(out.backends), names.length, Math.round(durationMs), task.itemId);
    if (r.changes !== 1) throw new ItemNotClaimedError(task);
  }).immediate();
  return new Set([...out.localized.map((s) => s.name), ...out.segmented.map((s) => s.name)]).size;
}

/** Records why an item failed; no result of it is stored. Returns the payload recorded. */
export function commitItemFailure(db: Db, task: ItemTask, err: unknown, durationMs: number): ErrorPayload {
  const payload = toErrorPayload(err);
  if (!payload.context.seriesUid) payload.context.seriesUid = task.seriesUid;
  db.prepare(
    `UPDATE run_items SET status = 'failed', error_json = ?, duration_ms = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE id = ? AND status = 'running'`,
  ).run(JSON.stringify(payload), Math.round(durationMs), task.itemId);
  return payload;
}
