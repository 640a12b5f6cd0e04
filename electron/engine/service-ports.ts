/**
 * The engine functions behind createEngineService: the archive (import, series, volumes; dicom/ and
 * store/archive.ts) and the contour sources the viewer overlays (RTSTRUCT files that reference a series).
 * The RTSTRUCT reader here is the minimum an overlay needs (ROI names, colours, ContourData,
 * PS3.3 C.8.8.5-6); rtstruct/ owns full RTSTRUCT import.
 */
import { readFile } from 'node:fs/promises';
import type { ContourStructure } from '../api.js';
import { importPaths } from './dicom/import.js';
import { parseDicomBytes } from './dicom/parse.js';
import { InputError, NotFoundError } from './errors.js';
import { getObjects, listSeries } from './store/archive.js';
import { defaultColor } from './store/structures.js';
import type { ArchivePort, ContourPort } from './service.js';
import { loadVolume } from './volume/load.js';

export const ENGINE_ARCHIVE: ArchivePort = {
  importPaths: (db, paths, o) =>
    importPaths(db, paths, {
      ...(o.signal ? { signal: o.signal } : {}),
      onProgress: (p) => o.onProgress?.(p.done, p.total),
    }),
  listSeries: (db) => listSeries(db),
  loadVolume: (db, seriesUid, o) => loadVolume(db, seriesUid, o.signal ? { signal: o.signal } : {}),
};

/** ROIs of an RTSTRUCT file with their closed planar contours (LPS mm). */
export async function readRtstructContours(file: string): Promise<ContourStructure[]> {
  const { dataSet: ds } = parseDicomBytes(await readFile(file), file);
  const names = new Map<string, string>();
  for (const item of ds.elements.x30060020?.items ?? []) {
    const d = item.dataSet;
    if (!d) continue;
    names.set((d.string('x30060022') ?? '').trim(), (d.string('x30060026') ?? '').trim());
  }
  const out: ContourStructure[] = [];
  for (const item of ds.elements.x30060039?.items ?? []) {
    const d = item.dataSet;
    if (!d) continue;
    const ref = (d.string('x30060084') ?? '').trim();
    const name = names.get(ref) ?? `ROI ${ref}`;
    const rgb = (d.string('x3006002a') ?? '').split('\\').map(Number);
    const color =
      rgb.length === 3 && rgb.every((c) => Number.isFinite(c) && c >= 0 && c <= 255)
        ? `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`
        : defaultColor(name);
    const contours: number[][] = [];
    for (const c of d.elements.x30060040?.items ?? []) {
      const text = c.dataSet?.string('x30060050');
      if (!text) continue;
      const pts = text.split('\\').map(Number);
      if (pts.length % 3 !== 0 || pts.some((v) => !Number.isFinite(v))) {
        throw new InputError(`RTSTRUCT ${file}: ROI ${name} has ContourData that is not LPS triplets`, { file, structure: name });
      }
      contours.push(pts);
    }
    out.push({ name, color, contours });
  }
  return out;
}

export const ENGINE_CONTOURS: ContourPort = {
  listStructureSets(db, seriesUid) {
    return getObjects(db, { referencedSeriesUid: seriesUid })
      .filter((o) => o.modality === 'RTSTRUCT')
      .map((o) => ({ id: o.sopInstanceUid, label: o.label || o.path.split(/[\\/]/).pop() || o.sopInstanceUid, kind: 'rtstruct' as const }));
  },
  async getContours(db, seriesUid, structureSetId) {
    const obj = getObjects(db, { referencedSeriesUid: seriesUid }).find((o) => o.sopInstanceUid === structureSetId);
    if (!obj) throw new NotFoundError(`structure set ${structureSetId} does not reference series ${seriesUid}`, { seriesUid });
    return readRtstructContours(obj.path);
  },
};
