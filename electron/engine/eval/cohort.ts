/**
 * Leave-one-out evaluation over a cohort of labelled CT volumes, the common research protocol
 * (MedLSAM's few-shot setting with one case as query and the others as templates): for each case in
 * turn, every other case containing a structure becomes a template of it (six extreme points derived
 * from its label, by the reference's rule in localize/extreme-points.ts), the backend localizes (and
 * optionally segments) the query, and the result is scored against the query's own labels.
 *
 * The backend is any Localizer, with an optional Segmenter; without one, only the box metrics exist.
 */
import { createHash } from 'node:crypto';
import { CancelledError, DelineateError, throwIfAborted } from '../errors.js';
import type { Localizer, LocalizedStructure, Progress, StructureTemplates } from '../localize/localizer.js';
import { extremePointsFromLabels } from '../localize/extreme-points.js';
import { evaluateStructure, type EvaluateOptions } from '../metrics/evaluate.js';
import type { Segmenter } from '../segment/segmenter.js';
import type { Vec3 } from '../volume/geometry.js';
import type { LabelVolume, Volume } from '../volume/volume.js';
import { summarise, type CaseMetrics, type CohortSummaryRow } from './cohort-stats.js';

export interface CohortCase {
  id: string;
  loadVolume(): Promise<Volume>;
  /** Reference labels on the CT's grid (values as in the names map). */
  loadLabels(): Promise<LabelVolume>;
}

export interface LeaveOneOutOptions {
  localizer: Localizer;
  segmenter?: Segmenter;
  /** Label value -> structure name. */
  names: Map<number, string>;
  /** Only these structures (names). */
  structures?: string[];
  mode?: 'wpl' | 'spl';
  /** Prefix of the per-query template set names (support caches are keyed by them). */
  setName?: string;
  evaluate?: EvaluateOptions;
  signal?: AbortSignal;
  onProgress?(p: Progress): void;
}

export interface CohortSkip {
  caseId: string;
  structure?: string;
  reason: string;
}

export interface LeaveOneOutResult {
  localizer: string;
  segmenter: string | null;
  mode: 'wpl' | 'spl';
  rows: CaseMetrics[];
  summary: CohortSummaryRow[];
  /** Cases or structures not scored, with why (a failed case does not stop the cohort). */
  skipped: CohortSkip[];
  timingsMs: { caseId: string; localize: number; segment: number; evaluate: number }[];
}

/**
 * What a failed case reports: the engine's message as is; for anything else (a bug, not bad input)
 * the error's class too, so a TypeError is not mistaken for a problem with the data.
 */
export function failureReason(e: unknown): string {
  if (e instanceof DelineateError) return e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/**
 * The per-query template set name. Localizers cache support features by set name, so the name must
 * change whenever the templates do: it carries a hash of every member's id and points (two cohort
 * folders that both have a case 'pt_4' must not share a cache entry).
 */
export function templateSetKey(prefix: string, queryId: string, templates: StructureTemplates[]): string {
  const h = createHash('sha256');
  for (const t of templates) h.update(JSON.stringify([t.name, t.members.map((m) => [m.seriesUid, m.points])]));
  return `${prefix}-without-${queryId}-${h.digest('hex').slice(0, 12)}`;
}

function maskOf(labels: LabelVolume, value: number): Uint8Array {
  const m = new Uint8Array(labels.data.length);
  for (let p = 0; p < m.length; p++) if (labels.data[p] === value) m[p] = 1;
  return m;
}

export async function runLeaveOneOut(cases: CohortCase[], opts: LeaveOneOutOptions): Promise<LeaveOneOutResult> {
  if (cases.length < 2) throw new DelineateError('bad-input', `leave-one-out needs at least two cases, got ${cases.length}`);
  const mode = opts.mode ?? 'wpl';
  const setName = opts.setName ?? 'loo';
  let structures = [...opts.names.entries()];
  if (opts.structures && opts.structures.length > 0) {
    const wanted = new Set(opts.structures);
    const unknown = opts.structures.filter((s) => !structures.some(([, n]) => n === s));
    if (unknown.length > 0) throw new DelineateError('bad-input', `structure ${unknown.join(', ')} is not in the label names (${structures.map(([, n]) => n).join(', ')})`);
    structures = structures.filter(([, n]) => wanted.has(n));
  }

  // Template points of every case, once: the labels are reloaded only when a mask is asked for.
  const points = new Map<string, Map<number, Vec3[]>>();
  for (const c of cases) {
    throwIfAborted(opts.signal);
    const labels = await c.loadLabels();
    const per = new Map<number, Vec3[]>();
    for (const [value] of structures) {
      const p = extremePointsFromLabels(labels, value);
      if (p) per.set(value, p);
    }
    points.set(c.id, per);
  }

  const rows: CaseMetrics[] = [];
  const skipped: CohortSkip[] = [];
  const timingsMs: LeaveOneOutResult['timingsMs'] = [];
  for (const [qi, query] of cases.entries()) {
    throwIfAborted(opts.signal);
    opts.onProgress?.({ done: qi, total: cases.length, message: `query ${query.id}` });
    const templates: StructureTemplates[] = [];
    for (const [value, name] of structures) {
      const members = cases
        .filter((c) => c.id !== query.id && points.get(c.id)!.has(value))
        .map((c) => ({
          seriesUid: c.id,
          points: points.get(c.id)!.get(value)!,
          loadVolume: () => c.loadVolume(),
          loadMask: async () => maskOf(await c.loadLabels(), value),
        }));
      if (members.length === 0) skipped.push({ caseId: query.id, structure: name, reason: 'no other case contains it, so it has no template' });
      else templates.push({ name, members });
    }
    if (templates.length === 0) continue;
    try {
      const volume = await query.loadVolume();
      const labels = await query.loadLabels();
      const t0 = performance.now();
      const localized = await opts.localizer.localize({
        seriesUid: query.id,
        query: volume,
        templateSet: templateSetKey(setName, query.id, templates),
        structures: templates,
        mode,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      const t1 = performance.now();
      const byName = new Map<string, LocalizedStructure>(localized.map((l) => [l.name, l]));
      const masks = new Map<string, Uint8Array>();
      if (opts.segmenter) {
        const segmented = await opts.segmenter.segment({
          seriesUid: query.id,
          volume,
          structures: templates
            .filter((t) => (byName.get(t.name)?.boxes.length ?? 0) > 0)
            .map((t) => ({ name: t.name, boxes: byName.get(t.name)!.boxes, members: t.members })),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        for (const s of segmented) masks.set(s.name, s.mask);
      }
      const t2 = performance.now();
      for (const t of templates) {
        const value = structures.find(([, n]) => n === t.name)![0];
        const loc = byName.get(t.name);
        const mask = opts.segmenter ? (masks.get(t.name) ?? new Uint8Array(volume.data.length)) : undefined;
        try {
          const m = evaluateStructure(t.name, maskOf(labels, value), { ...(mask ? { mask } : {}), boxes: loc?.boxes ?? [] }, volume, opts.evaluate);
          rows.push({ caseId: query.id, ...m });
        } catch (e) {
          // A prediction the metrics refuse (e.g. a NaN box) costs that structure, not the case.
          if (!(e instanceof DelineateError) || e instanceof CancelledError) throw e;
          skipped.push({ caseId: query.id, structure: t.name, reason: e.message });
        }
      }
      timingsMs.push({ caseId: query.id, localize: t1 - t0, segment: t2 - t1, evaluate: performance.now() - t2 });
    } catch (e) {
      if (e instanceof CancelledError) throw e;
      // Recorded and reported with the case it belongs to; the other cases still run.
      skipped.push({ caseId: query.id, reason: failureReason(e) });
    }
  }
  opts.onProgress?.({ done: cases.length, total: cases.length });
  return {
    localizer: opts.localizer.name,
    segmenter: opts.segmenter?.name ?? null,
    mode,
    rows,
    summary: summarise(rows),
    skipped,
    timingsMs,
  };
}
