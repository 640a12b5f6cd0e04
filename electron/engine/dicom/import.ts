/**
 * importPaths: index folders and files of DICOM (and NIfTI) into the archive database.
 *
 * Idempotent and incremental: a file already indexed at the same path with the same size and mtime
 * is not read again; new files join their series and the series geometry is recomputed. Nothing
 * here throws for a bad file: it goes to `skipped` with a reason; a refused series (gantry tilt,
 * 4D without phase attributes) puts all its files there.
 */
import { statSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ImportedObject, ImportResult, ImportWarning, SeriesSummary } from '../../api.js';
import { DelineateError, throwIfAborted } from '../errors.js';
import {
  getSeries,
  getSeriesWarnings,
  instanceBySop,
  knownFile,
  seriesByFrameOfReference,
  seriesRowInfo,
  setSliceIndex,
  storedInstances,
  upsertInstance,
  upsertObject,
  upsertPatientStudy,
  upsertSeries,
} from '../store/archive.js';
import type { Db } from '../store/db.js';
import type { Geometry } from '../volume/geometry.js';
import { assembleSeries, type SliceInput } from './assemble.js';
import { derivedUid, type ImageHeader, type ObjectHeader } from './header.js';
import { importNifti, isLabelMapName } from './nifti-import.js';
import { readHeaders, type FileToRead } from './decode-pool.js';
import { isNiftiPath, scanPaths } from './scan.js';

export interface ImportOptions {
  signal?: AbortSignal;
  onProgress?(p: { done: number; total: number }): void;
}

interface Slice extends SliceInput {
  header: ImageHeader | null;
  sopInstanceUid: string;
  path: string;
  instanceNumber: number | null;
}

function toSlice(h: ImageHeader): Slice {
  return {
    id: h.sopInstanceUid,
    header: h,
    sopInstanceUid: h.sopInstanceUid,
    path: h.path,
    instanceNumber: h.instanceNumber,
    position: h.position,
    orientation: h.orientation,
    pixelSpacing: h.pixelSpacing,
    rows: h.rows,
    columns: h.columns,
    imageType: h.imageType,
  };
}

/** Several images per position with phase attributes that tell them apart: one series per phase. */
function splitPhases(seriesUid: string, headers: ImageHeader[]): Map<string, ImageHeader[]> | undefined {
  const positions = new Set(headers.map((h) => (h.position ? h.position.map((x) => x.toFixed(2)).join(',') : '')));
  if (positions.size === headers.length) return undefined;
  const phases = new Map<string, ImageHeader[]>();
  for (const h of headers) {
    const list = phases.get(h.phaseKey);
    if (list) list.push(h);
    else phases.set(h.phaseKey, [h]);
  }
  if (phases.size < 2) return undefined;
  for (const list of phases.values()) {
    const pos = new Set(list.map((h) => (h.position ? h.position.map((x) => x.toFixed(2)).join(',') : '')));
    if (pos.size !== list.length) return undefined;
  }
  const out = new Map<string, ImageHeader[]>();
  for (const [key, list] of phases) {
    const uid = derivedUid('phase', seriesUid, key);
    out.set(uid, list.map((h) => ({ ...h, seriesUid: uid })));
  }
  return out;
}

export async function importPaths(db: Db, paths: string[], opts: ImportOptions = {}): Promise<ImportResult> {
  const { signal, onProgress } = opts;
  const skipped: { path: string; reason: string }[] = [];
  const warnings: ImportWarning[] = [];
  const touchedSeries = new Set<string>();
  const objects = new Map<string, ImportedObject>();
  const scan = await scanPaths(paths, signal);
  throwIfAborted(signal);
  skipped.push(...scan.unreadable);
  const total = scan.files.length;
  let done = 0;
  const tick = (): void => {
    done++;
    onProgress?.({ done, total });
  };

  const images = new Map<string, ImageHeader[]>();
  const newObjects: ObjectHeader[] = [];
  const niftiFiles: { path: string; size: number; mtimeMs: number }[] = [];
  const seenSop = new Map<string, string>();
  const toRead: FileToRead[] = [];

  for (const [i, path] of scan.files.entries()) {
    if (i % 32 === 0) await yieldToLoop();
    throwIfAborted(signal);
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      skipped.push({ path, reason: `cannot read ${path}: ${(e as Error).message}` });
      tick();
      continue;
    }
    const known = knownFile(db, path);
    if (known && 'object' in known) {
      objects.set(known.object.sopInstanceUid, known.object);
      tick();
      continue;
    }
    if (known && known.size === st.size && Math.round(known.mtimeMs) === Math.round(st.mtimeMs)) {
      touchedSeries.add(known.seriesUid);
      tick();
      continue;
    }
    if (isNiftiPath(path)) {
      niftiFiles.push({ path, size: st.size, mtimeMs: st.mtimeMs });
      tick();
      continue;
    }
    toRead.push({ path, size: st.size, mtimeMs: st.mtimeMs });
  }

  // Headers, on the decode pool's workers for a large folder, then taken in path order.
  const headers = await readHeaders(toRead, tick, signal ? { signal } : {});
  for (const h of headers) {
    const path = h.path;
    if (h.kind === 'skip') {
      skipped.push({ path, reason: h.reason });
      continue;
    }
    if (h.kind === 'object') {
      newObjects.push(h);
      continue;
    }
    // Duplicate SOP Instance UIDs: the first file (in path order, or already indexed) wins.
    const prior = seenSop.get(h.sopInstanceUid) ?? instanceBySop(db, h.sopInstanceUid)?.path;
    if (prior !== undefined && prior !== path) {
      skipped.push({ path, reason: `duplicate SOP Instance UID ${h.sopInstanceUid}: the same instance is already indexed from ${prior}` });
      continue;
    }
    seenSop.set(h.sopInstanceUid, path);
    const list = images.get(h.seriesUid);
    if (list) list.push(h);
    else images.set(h.seriesUid, [h]);
  }

  // Series: check consistency, split 4D phases, assemble geometry, write.
  const groups = new Map<string, ImageHeader[]>();
  for (const [seriesUid, headers] of images) {
    const split = splitPhases(seriesUid, headers);
    if (split) {
      warnings.push({
        seriesUid,
        message: `series ${seriesUid} holds ${split.size} images at each position that differ in AcquisitionNumber/TemporalPositionIdentifier/TriggerTime: split into ${split.size} series (${[...split.keys()].join(', ')})`,
      });
      for (const [uid, list] of split) groups.set(uid, list);
    } else groups.set(seriesUid, headers);
  }
  for (const [seriesUid, headers] of groups) {
    throwIfAborted(signal);
    try {
      importSeries(db, seriesUid, headers, skipped);
      touchedSeries.add(seriesUid);
    } catch (e) {
      if (!(e instanceof DelineateError)) throw e;
      for (const h of headers) skipped.push({ path: h.path, reason: e.message });
    }
  }

  // NIfTI: volumes first, so label maps can find the volume on their grid.
  const byFolder = new Map<string, { uid: string; path: string; geometry: Geometry }[]>();
  niftiFiles.sort((a, b) => Number(isLabelMapName(a.path)) - Number(isLabelMapName(b.path)) || a.path.localeCompare(b.path));
  for (const f of niftiFiles) {
    throwIfAborted(signal);
    try {
      const r = importNifti(db, f.path, f.size, f.mtimeMs, byFolder);
      warnings.push(...r.warnings);
      if (r.kind === 'series') touchedSeries.add(r.uid);
      else objects.set(r.uid, { sopInstanceUid: r.uid, modality: 'LABELMAP', referencedSeriesUid: null, path: f.path });
    } catch (e) {
      if (!(e instanceof DelineateError)) throw e;
      skipped.push({ path: f.path, reason: e.message });
    }
  }
  // Label-map objects: report their stored reference.
  for (const o of objects.values()) {
    const k = knownFile(db, o.path);
    if (k && 'object' in k) objects.set(o.sopInstanceUid, k.object);
  }

  // RT and SEG objects, after the image series so references by frame of reference resolve.
  for (const o of newObjects) {
    let ref = o.referencedSeriesUid;
    if (!ref) {
      const byFor = seriesByFrameOfReference(db, o.frameOfReferenceUid);
      if (byFor.length > 0) {
        ref = byFor[byFor.length - 1]!;
        warnings.push({ path: o.path, message: `${o.modality} ${o.path} names no series; attached to series ${ref} by its frame of reference` });
      }
    }
    upsertObject(db, { ...o, referencedSeriesUid: ref });
    objects.set(o.sopInstanceUid, { sopInstanceUid: o.sopInstanceUid, modality: o.modality, referencedSeriesUid: ref, path: o.path });
  }

  const series: SeriesSummary[] = [];
  for (const uid of touchedSeries) {
    const s = getSeries(db, uid);
    series.push(s);
    for (const message of getSeriesWarnings(db, uid)) warnings.push({ seriesUid: uid, message });
  }
  return { series, objects: [...objects.values()], skipped, warnings };
}

/** Merges new headers with what the archive holds for the series, assembles, and writes. */
function importSeries(db: Db, seriesUid: string, headers: ImageHeader[], skipped: { path: string; reason: string }[]): void {
  const first = headers[0]!;
  const existing = seriesRowInfo(db, seriesUid);
  const accepted: ImageHeader[] = [];
  for (const h of headers) {
    const studyUid = existing?.studyUid ?? first.studyUid;
    const forUid = existing?.frameOfReferenceUid ?? first.frameOfReferenceUid;
    if (h.studyUid !== studyUid || h.frameOfReferenceUid !== forUid) {
      skipped.push({ path: h.path, reason: `series ${seriesUid} is already indexed under study ${studyUid} and frame of reference ${forUid}; this file names study ${h.studyUid}, frame of reference ${h.frameOfReferenceUid}` });
    } else accepted.push(h);
  }
  if (accepted.length === 0) return;
  const newSops = new Set(accepted.map((h) => h.sopInstanceUid));
  const stored: Slice[] = storedInstances(db, seriesUid)
    .filter((s) => !newSops.has(s.sopInstanceUid))
    .map((s) => ({
      id: s.sopInstanceUid,
      header: null,
      sopInstanceUid: s.sopInstanceUid,
      path: s.path,
      instanceNumber: s.instanceNumber,
      position: s.position,
      orientation: s.orientation,
      // Stored instances all passed assembly with the series' grid.
      pixelSpacing: existing ? [existing.geometry.spacing[1], existing.geometry.spacing[0]] : null,
      rows: existing?.geometry.dims[1] ?? 0,
      columns: existing?.geometry.dims[0] ?? 0,
    }));
  const asm = assembleSeries([...stored, ...accepted.map(toSlice)], seriesUid);
  for (const d of asm.dropped) {
    if (d.slice.header) skipped.push({ path: d.slice.path, reason: `${d.reason}: ${d.slice.path}` });
  }
  const generated = new Set(accepted.flatMap((h) => h.generatedUids));
  const warnings = [...asm.warnings];
  if (generated.size > 0) {
    warnings.push(
      `series ${seriesUid}: ${[...generated].join(', ')} missing or empty in the files; stable UIDs were generated from the patient, study and series attributes and the file contents`,
    );
  }
  const dims = asm.geometry.dims;
  db.transaction(() => {
    upsertPatientStudy(db, first);
    upsertSeries(db, {
      seriesUid,
      studyUid: first.studyUid,
      modality: first.modality,
      frameOfReferenceUid: first.frameOfReferenceUid,
      description: first.seriesDescription,
      seriesNumber: first.seriesNumber,
      seriesDate: first.seriesDate,
      source: 'dicom',
      geometry: { ...asm.geometry, dims, uniform: asm.uniform },
      warnings,
    });
    for (const p of asm.slices) {
      const h = p.slice.header;
      if (h) {
        upsertInstance(db, {
          sopInstanceUid: h.sopInstanceUid,
          seriesUid,
          path: h.path,
          instanceNumber: h.instanceNumber,
          position: h.position,
          orientation: h.orientation,
          sliceIndex: p.k,
          fileSize: h.size,
          fileMtimeMs: h.mtimeMs,
        });
      } else setSliceIndex(db, p.slice.sopInstanceUid, p.k);
    }
  }).immediate();
}
