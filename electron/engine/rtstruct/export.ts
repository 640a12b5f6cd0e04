/**
 * `export rtstruct` over the archive: the stored result masks of a series (optionally only the
 * approved ones), or a label map + names put onto the series grid. Names go through exportNames
 * (TG-263, <= 16 characters, unique), colours and interpreted types come from the structure
 * catalogue, and the generating algorithm and model hashes are recorded (DESIGN.md "Output").
 */
import { InputError, NotFoundError } from '../errors.js';
import { readLabelNames } from '../eval/sources.js';
import { labelMapContours } from './label-contours.js';
import { maskToContours } from '../contours/mask-to-contours.js';
import { labelsOnGrid } from '../eval/resample-labels.js';
import { readNiftiLabels } from '../nifti/nifti.js';
import type { Db } from '../store/db.js';
import { getResultMask, getResults } from '../store/results.js';
import { catalogueEntry, defaultColor } from '../store/structures.js';
import { exportNames } from './names.js';
import { auditSummary, generationDescription } from '../audit/summary.js';
import { auditExport } from '../audit/audit.js';
import { recordExport, usedExportUids } from './exports-log.js';
import { seriesRefFromArchive } from './series-ref.js';
import type { CtSeriesRef, StructureInput } from './types.js';
import { writeRtstruct, type WrittenRtstruct, type WrittenTransform } from './write.js';

export interface ExportResultsOptions {
  approvedOnly?: boolean;
  templateSet?: string;
  simplifyMm?: number;
  warn?: (message: string) => void;
  /** Who exports: when given, each exported structure gets an 'exported' audit entry (audit/audit.ts). */
  actor?: string;
  /**
   * Sent before any review (the DICOM node's send-now rules): StructureSetLabel starts with
   * UNREVIEWED and every ROI Description with 'UNREVIEWED PROPOSAL', so the TPS shows what it is.
   */
  proposal?: boolean;
  /** Applied to the encoded object before it is written (de-identification): the log and audit name what was written. */
  transform?: WrittenTransform;
  /**
   * false: neither the exports log nor the audit trail is written here; the caller records the
   * export (recordResultsExport) once the file sits at its final path (export dicom renames a staged folder).
   */
  record?: boolean;
}

export interface WrittenResultsRtstruct extends WrittenRtstruct {
  templateSet: string;
  /** The archive's structure names exported (before export renaming). */
  sourceStructures: string[];
}

export const PROPOSAL_LABEL = 'UNREVIEWED';
export const PROPOSAL_NOTE = 'UNREVIEWED PROPOSAL: automatic contours, not approved by a reviewer.';

function styleOf(name: string, db: Db): { color: string; interpretedType: string } {
  const row = db.prepare('SELECT color, interpreted_type FROM structures WHERE name = ?').get(name) as
    | { color: string; interpreted_type: string }
    | undefined;
  if (row) return { color: row.color, interpretedType: row.interpreted_type };
  const c = catalogueEntry(name);
  return { color: c?.color ?? defaultColor(name), interpretedType: c?.interpretedType ?? 'ORGAN' };
}

function finish(
  db: Db,
  out: string,
  series: CtSeriesRef,
  structures: StructureInput[],
  label: string,
  description: string,
  opts: { warn?: (m: string) => void; simplifyMm?: number; transform?: WrittenTransform; record?: boolean },
): WrittenRtstruct {
  const warn = opts.warn;
  const seriesUid = series.seriesInstanceUid;
  const { names, renamed } = exportNames(structures.map((s) => s.name));
  for (const r of renamed) warn?.(`structure ${r.from} exported as ${r.to}`);
  structures.forEach((s, i) => (s.name = names[i]!));
  const written = writeRtstruct(out, series, structures, {
    label,
    description,
    usedUids: usedExportUids(db),
    simplifyMm: opts.simplifyMm ?? 0,
    ...(opts.transform ? { transform: opts.transform } : {}),
  });
  for (const w of written.warnings) warn?.(w);
  for (const p of written.problems) warn?.(`${p.structure ? `${p.structure}: ` : ''}${p.message}`);
  if (opts.record !== false) {
    recordExport(db, { seriesUid, kind: 'rtstruct', path: out, sopInstanceUid: written.sopInstanceUid, seriesInstanceUid: written.seriesInstanceUid, ...(opts.transform ? { detail: 'de-identified' } : {}) });
  }
  return written;
}

/** The exports-log row and 'exported' audit entries of an RTSTRUCT written with `record: false`, under its final path. */
export function recordResultsExport(db: Db, seriesUid: string, written: WrittenResultsRtstruct, path: string, opts: { actor?: string; detail?: string } = {}): void {
  recordExport(db, { seriesUid, kind: 'rtstruct', path, sopInstanceUid: written.sopInstanceUid, seriesInstanceUid: written.seriesInstanceUid, ...(opts.detail ? { detail: opts.detail } : {}) });
  if (opts.actor !== undefined) {
    auditExport(db, { actor: opts.actor, seriesUid, templateSet: written.templateSet, structures: written.sourceStructures, target: path, sopInstanceUid: written.sopInstanceUid });
  }
}

/** The stored results of a series (the masks a segmenter wrote) as an RTSTRUCT. */
export function exportResultsRtstruct(db: Db, seriesUid: string, out: string, opts: ExportResultsOptions = {}): WrittenResultsRtstruct {
  const rows = getResults(db, seriesUid, opts.templateSet).filter((r) => r.hasMask);
  if (rows.length === 0) throw new NotFoundError(`series ${seriesUid} has no segmented structures to export: run segment first, or pass --labels/--names`, { seriesUid });
  const sets = new Set(rows.map((r) => r.templateSet));
  if (sets.size > 1) throw new InputError(`series ${seriesUid} has results from several template sets (${[...sets].join(', ')}): choose one`, { seriesUid });
  const chosen = opts.approvedOnly ? rows.filter((r) => r.reviewState === 'approved') : rows.filter((r) => r.reviewState !== 'rejected');
  for (const r of rows) if (!chosen.includes(r)) opts.warn?.(`structure ${r.structure} left out (review state ${r.reviewState})`);
  if (chosen.length === 0) throw new NotFoundError(`series ${seriesUid} has no ${opts.approvedOnly ? 'approved ' : ''}structures to export`, { seriesUid });
  const set = [...sets][0]!;
  const models = new Map<string, string>();
  for (const r of chosen) for (const m of r.models) models.set(m.name, m.sha256);
  const modelText = [...models].map(([n, h]) => `${n}:${h.slice(0, 12)}`).join(' ');
  const series = seriesRefFromArchive(db, seriesUid);
  const structures: StructureInput[] = chosen.map((r) => {
    const edited = (r.flags as string[]).includes('edited');
    // One mask in memory at a time: contours are computed here and the mask dropped.
    const mask = getResultMask(db, r.id)!;
    const rings = maskToContours(mask, series.geometry, { simplifyMm: opts.simplifyMm ?? 0 }).map((c) => c.points);
    // The audit trail's summaries when the structure has one (audit/summary.ts keeps them within
    // the VRs: ST 1024, LO 64); otherwise the backends, set and model hashes of the result row.
    const q = { seriesUid, templateSet: set, structure: r.structure };
    const audited = generationDescription(db, q);
    const gen = audited || `Delineate ${[r.localizer, r.segmenter].filter(Boolean).join('+')} set ${set} ${modelText}`.trim();
    const summary = auditSummary(db, q);
    return {
      name: r.structure,
      ...styleOf(r.structure, db),
      contours: rings,
      generationAlgorithm: edited ? 'MANUAL' : 'AUTOMATIC',
      generationDescription: gen.length > 64 ? gen.slice(0, 64) : gen,
      ...(opts.proposal ? { description: `${PROPOSAL_NOTE}${summary ? ` ${summary}` : ''}`.slice(0, 1024) } : summary ? { description: summary } : {}),
    };
  });
  const description = `Delineate (MedLSAM) template set ${set}; models ${[...models].map(([n, h]) => `${n} sha256:${h}`).join(', ') || 'none recorded'}`;
  // StructureSetLabel is SH: at most 16 characters (PS3.5 6.2).
  const label = opts.proposal ? `${PROPOSAL_LABEL} ${set}`.slice(0, 16) : set.slice(0, 16);
  const written = { ...finish(db, out, series, structures, label, opts.proposal ? `${PROPOSAL_NOTE} ${description}` : description, opts), templateSet: set, sourceStructures: chosen.map((r) => r.structure) };
  if (opts.actor !== undefined && opts.record !== false) {
    auditExport(db, { actor: opts.actor, seriesUid, templateSet: set, structures: written.sourceStructures, target: written.out, sopInstanceUid: written.sopInstanceUid });
  }
  return written;
}

/** A label map (NIfTI) with its names JSON, put onto the series grid, as an RTSTRUCT. */
export function exportLabelsRtstruct(
  db: Db,
  seriesUid: string,
  labelsFile: string,
  namesFile: string,
  out: string,
  opts: { warn?: (m: string) => void; simplifyMm?: number; transform?: WrittenTransform } = {},
): WrittenRtstruct {
  const series = seriesRefFromArchive(db, seriesUid);
  const lv = readNiftiLabels(labelsFile);
  const names = readLabelNames(namesFile);
  const labels = labelsOnGrid(lv, series.geometry, { file: labelsFile, seriesUid });
  // Label values named but absent from the map are not structures of this scan: left out silently.
  const present: StructureInput[] = labelMapContours(labels, names, series.geometry, opts.simplifyMm ?? 0).map((l) => ({
    name: l.name,
    ...styleOf(l.name, db),
    contours: l.rings,
    generationAlgorithm: 'AUTOMATIC' as const,
    generationDescription: `from label map ${labelsFile.split(/[\\/]/).pop() ?? ''}`.slice(0, 64),
  }));
  return finish(db, out, series, present, 'Labels', `from label map ${labelsFile} with names ${namesFile}`, opts);
}
