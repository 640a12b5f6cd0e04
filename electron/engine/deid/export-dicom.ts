/**
 * `export dicom`: the CT images of archive series as DICOM files (with their results as RTSTRUCT,
 * and the RTSTRUCT/SEG objects the archive holds for them), optionally de-identified (deidentify.ts)
 * with the project's pseudonyms, so a labelled case can leave the hospital as DICOM.
 *
 * Layout: OUT/series-NNN/CT-NNNN.dcm, OUT/series-NNN/RTSTRUCT-NN.dcm, SEG-NN.dcm; names are counters,
 * never derived from identifiers. A series is written into a hidden staging folder and renamed into
 * place when complete, so a refused or failed series leaves nothing visible.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic.js';
import { join } from 'node:path';
import { DelineateError, InputError } from '../errors.js';
import { getInstances, getObjects, getSeries, getSeriesGeometry } from '../store/archive.js';
import type { Db } from '../store/db.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, readPart10, toPart10, type Naturalized } from '../rtstruct/dcmjs.js';
import { exportResultsRtstruct, recordResultsExport, type WrittenResultsRtstruct } from '../rtstruct/export.js';
import { getResults } from '../store/results.js';
import { pixelEncoding } from '../dicom/transfer-syntax.js';
import { deidentifyDataset, type DeidOptions } from './deidentify.js';
import { deidentifier } from './file.js';
import { projectPseudonyms, DEFAULT_PROJECT } from './mapping.js';

export interface ExportDicomOptions {
  seriesUids: string[];
  outDir: string;
  withResults?: boolean;
  deidentify?: boolean;
  /** Pseudonym namespace in the database (default 'default'). */
  project?: string;
  modifiedDates?: boolean;
  allowBurnedInAnnotation?: boolean;
  /** Who exports (audit of the RTSTRUCT written from results). */
  actor?: string;
  warn?(message: string): void;
}

export interface ExportedSeries {
  seriesUid: string;
  /** The SeriesInstanceUID written (the pseudonym when de-identified). */
  writtenSeriesUid: string;
  dir: string;
  images: number;
  objects: { kind: string; file: string }[];
}

/** Transfer syntax of the written file: encapsulated and big-endian pixel data keep theirs; the rest explicit VR LE. */
function outputSyntax(ts: string): string {
  const enc = pixelEncoding(ts);
  return enc === 'native' || enc === undefined ? EXPLICIT_VR_LITTLE_ENDIAN : ts;
}

/** Temporary name, fsync, rename, fsync of the folder (engine/fs/atomic.ts); private to the user. */
function writeAtomic(path: string, bytes: Buffer): void {
  writeFileAtomic(path, bytes, { operation: 'export dicom' });
}

function nextSeriesDir(outDir: string): string {
  const taken = new Set(existsSync(outDir) ? readdirSync(outDir) : []);
  for (let n = 1; ; n++) {
    const name = `series-${String(n).padStart(3, '0')}`;
    if (!taken.has(name)) return name;
  }
}

export function exportDicomSeries(db: Db, opts: ExportDicomOptions): ExportedSeries[] {
  if (opts.seriesUids.length === 0) throw new InputError('export dicom needs at least one --series');
  const map = opts.deidentify ? projectPseudonyms(db, opts.project ?? DEFAULT_PROJECT) : undefined;
  const deidOpts = (label: string): DeidOptions => ({ modifiedDates: opts.modifiedDates ?? false, allowBurnedInAnnotation: opts.allowBurnedInAnnotation ?? false, label });
  const clean = (ds: Naturalized, label: string): Naturalized => (map ? deidentifyDataset(ds, map, deidOpts(label)) : ds);
  mkdirSync(opts.outDir, { recursive: true });
  const staging = join(opts.outDir, `.delineate-partial-${process.pid}`);
  const out: ExportedSeries[] = [];
  try {
    for (const seriesUid of opts.seriesUids) {
      const s = getSeries(db, seriesUid);
      if (getSeriesGeometry(db, seriesUid).source !== 'dicom') {
        throw new InputError(`series ${seriesUid} was imported from NIfTI: it has no DICOM images to export (use export nifti)`, { seriesUid });
      }
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      const instances = getInstances(db, seriesUid).sort((a, b) => a.sliceIndex - b.sliceIndex);
      let written = '';
      instances.forEach((inst, n) => {
        const { meta, dataset } = readPart10(inst.path);
        // The archive's UIDs (generated ones included) are what results and references name.
        Object.assign(dataset, { SOPInstanceUID: inst.sopInstanceUid, SeriesInstanceUID: seriesUid, StudyInstanceUID: s.studyUid, FrameOfReferenceUID: s.frameOfReferenceUid });
        const ds = clean(dataset, `${inst.path} (series ${seriesUid})`);
        written = String(ds.SeriesInstanceUID);
        const ts = String(meta.TransferSyntaxUID ?? EXPLICIT_VR_LITTLE_ENDIAN);
        writeAtomic(join(staging, `CT-${String(n + 1).padStart(4, '0')}.dcm`), toPart10(ds, outputSyntax(ts)));
      });
      const objects: ExportedSeries['objects'] = [];
      let results: { file: string; written: WrittenResultsRtstruct } | undefined;
      if (opts.withResults) {
        const counts = new Map<string, number>();
        const name = (kind: string): string => {
          const k = (counts.get(kind) ?? 0) + 1;
          counts.set(kind, k);
          return `${kind}-${String(k).padStart(2, '0')}.dcm`;
        };
        if (getResults(db, seriesUid).some((r) => r.hasMask)) {
          // De-identified in memory before the write; logged and audited under its final path once
          // the staged folder is renamed into place (below).
          const file = name('RTSTRUCT');
          const written = exportResultsRtstruct(db, seriesUid, join(staging, file), {
            ...(opts.warn ? { warn: opts.warn } : {}),
            record: false,
            ...(map ? { transform: deidentifier(map, deidOpts(`RTSTRUCT of series ${seriesUid}`)) } : {}),
          });
          results = { file, written };
          objects.push({ kind: 'RTSTRUCT (results)', file });
        }
        for (const o of getObjects(db, { referencedSeriesUid: seriesUid })) {
          if (o.modality !== 'RTSTRUCT' && o.modality !== 'SEG') continue;
          const { meta, dataset } = readPart10(o.path);
          const file = name(o.modality);
          writeAtomic(join(staging, file), toPart10(clean(dataset, o.path), outputSyntax(String(meta.TransferSyntaxUID ?? EXPLICIT_VR_LITTLE_ENDIAN))));
          objects.push({ kind: o.modality, file });
        }
      }
      const dir = join(opts.outDir, nextSeriesDir(opts.outDir));
      renameSync(staging, dir);
      if (results) {
        recordResultsExport(db, seriesUid, results.written, join(dir, results.file), {
          ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
          detail: map ? 'export dicom, de-identified' : 'export dicom',
        });
      }
      out.push({ seriesUid, writtenSeriesUid: written, dir, images: instances.length, objects });
    }
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    if (e instanceof DelineateError) throw e;
    throw new DelineateError('bad-input', `export dicom to ${opts.outDir} failed: ${(e as Error).message}`, { file: opts.outDir }, { cause: e });
  }
  return out;
}
