/**
 * `export seg` over the archive: the stored masks of a series (optionally approved only; rejected
 * ones never) as one DICOM Segmentation referencing the CT images, written atomically (fs/atomic.ts),
 * logged in the exports log and the audit trail like an RTSTRUCT export. With a transform
 * (de-identification) only the transformed object is written, and the log names it.
 */
import type { Db } from '../store/db.js';
import { InputError, NotFoundError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { WrittenTransform } from '../rtstruct/write.js';
import { getResultMask, getResults } from '../store/results.js';
import { getInstances } from '../store/archive.js';
import { seriesRefFromArchive } from '../rtstruct/series-ref.js';
import { toPart10 } from '../rtstruct/dcmjs.js';
import { recordExport } from '../rtstruct/exports-log.js';
import { auditExport } from '../audit/audit.js';
import { buildSeg, type SegSeries } from './build.js';

export interface ExportSegOptions {
  templateSet?: string;
  approvedOnly?: boolean;
  /** Who exports, for the audit trail. */
  actor?: string;
  warn?(message: string): void;
  /** Applied to the encoded object before it is written (de-identification). */
  transform?: WrittenTransform;
}

export interface WrittenSeg {
  out: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  segments: { number: number; name: string; frames: number }[];
}

export function exportResultsSeg(db: Db, seriesUid: string, out: string, opts: ExportSegOptions = {}): WrittenSeg {
  const rows = getResults(db, seriesUid, opts.templateSet).filter((r) => r.hasMask);
  if (rows.length === 0) throw new NotFoundError(`series ${seriesUid} has no segmented structures to export`, { seriesUid });
  const sets = new Set(rows.map((r) => r.templateSet));
  if (sets.size > 1) throw new InputError(`series ${seriesUid} has results from several template sets (${[...sets].join(', ')}): choose one with --set`, { seriesUid });
  const chosen = opts.approvedOnly ? rows.filter((r) => r.reviewState === 'approved') : rows.filter((r) => r.reviewState !== 'rejected');
  for (const r of rows) if (!chosen.includes(r)) opts.warn?.(`structure ${r.structure} left out (review state ${r.reviewState})`);
  if (chosen.length === 0) throw new NotFoundError(`series ${seriesUid} has no ${opts.approvedOnly ? 'approved ' : ''}structures to export`, { seriesUid });
  const ref = seriesRefFromArchive(db, seriesUid);
  const nz = ref.geometry.dims[2];
  const bySlice: SegSeries['instances'] = new Array(nz).fill(undefined);
  // Only slices that sit exactly on the grid are derivation sources (an interpolated slice has none).
  for (const i of getInstances(db, seriesUid)) if (i.sliceIndex >= 0 && i.sliceIndex < nz && ref.instances.length === nz) bySlice[i.sliceIndex] = { sopInstanceUid: i.sopInstanceUid, sopClassUid: i.sopClassUid };
  const colors = new Map((db.prepare('SELECT name, color FROM structures').all() as { name: string; color: string }[]).map((s) => [s.name, s.color]));
  const set = [...sets][0]!;
  const built = buildSeg(
    { seriesInstanceUid: seriesUid, studyInstanceUid: ref.studyInstanceUid, frameOfReferenceUid: ref.frameOfReferenceUid, header: ref.header, instances: bySlice, geometry: ref.geometry },
    chosen.map((r) => {
      const models = r.models.map((m) => `${m.name}:${m.sha256.slice(0, 12)}`).join(' ');
      const name = `Delineate ${[r.localizer, r.segmenter].filter(Boolean).join('+')} ${models}`.trim();
      return {
        name: r.structure,
        mask: getResultMask(db, r.id)!,
        ...(colors.get(r.structure) ? { color: colors.get(r.structure)! } : {}),
        algorithmType: (r.flags as string[]).includes('edited') ? 'SEMIAUTOMATIC' : 'AUTOMATIC',
        algorithmName: name.slice(0, 64),
      };
    }),
    { description: `Delineate ${set}`.slice(0, 64) },
  );
  const encoded = toPart10(built.dataset);
  const final = opts.transform ? opts.transform(encoded, out) : { bytes: encoded, sopInstanceUid: built.sopInstanceUid, seriesInstanceUid: built.seriesInstanceUid };
  writeFileAtomic(out, final.bytes, { operation: `export seg of series ${seriesUid}` });
  recordExport(db, { seriesUid, kind: 'seg', path: out, sopInstanceUid: final.sopInstanceUid, seriesInstanceUid: final.seriesInstanceUid, ...(opts.transform ? { detail: 'de-identified' } : {}) });
  if (opts.actor !== undefined) {
    auditExport(db, { actor: opts.actor, seriesUid, templateSet: set, structures: chosen.map((r) => r.structure), target: out, sopInstanceUid: final.sopInstanceUid });
  }
  return { out, sopInstanceUid: final.sopInstanceUid, seriesInstanceUid: final.seriesInstanceUid, segments: built.segments };
}
