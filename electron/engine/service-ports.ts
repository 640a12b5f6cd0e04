/**
 * The engine functions behind createEngineService: the archive (import, series, volumes; dicom/ and
 * store/archive.ts) and the contour sources the viewer overlays (RTSTRUCT files that reference a series).
 * Overlays: RTSTRUCT files imported with the series (rtstruct/read.ts) and stored segmentation
 * results (their masks turned into planar contours, contours/mask-to-contours.ts).
 */
import type { ContourStructure } from '../api.js';
import { maskToContours } from './contours/mask-to-contours.js';
import { importPaths } from './dicom/import.js';
import { NotFoundError } from './errors.js';
import { readRtstruct } from './rtstruct/read.js';
import { getObjects, getSeriesGeometry, listSeries } from './store/archive.js';
import type { Db } from './store/db.js';
import { getResultMask, getResults } from './store/results.js';
import { getStructure } from './store/templates.js';
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

function hex(rgb: [number, number, number] | undefined, name: string): string {
  if (!rgb || rgb.some((c) => !Number.isFinite(c) || c < 0 || c > 255)) return defaultColor(name);
  return `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** ROIs of an RTSTRUCT file with their closed planar contours (LPS mm), read by rtstruct/read.ts. */
export function readRtstructContours(file: string): ContourStructure[] {
  return readRtstruct(file).structures.map((s) => ({
    name: s.name,
    color: hex(s.color, s.name),
    contours: s.contours.filter((c) => c.geometricType === 'CLOSED_PLANAR').map((c) => c.points.flat()),
  }));
}

const RESULTS_PREFIX = 'results:';

/** Segmentation results of one template set on a series, as contours of their masks. */
function resultContours(db: Db, seriesUid: string, set: string): ContourStructure[] {
  const g = getSeriesGeometry(db, seriesUid);
  const out: ContourStructure[] = [];
  for (const r of getResults(db, seriesUid, set)) {
    if (!r.hasMask) continue;
    const mask = getResultMask(db, r.id);
    if (!mask) continue;
    const contours = maskToContours(mask, g).map((c) => c.points.flat());
    out.push({ name: r.structure, color: getStructure(db, r.structure)?.color ?? defaultColor(r.structure), contours });
  }
  return out;
}

export const ENGINE_CONTOURS: ContourPort = {
  listStructureSets(db, seriesUid) {
    const rt = getObjects(db, { referencedSeriesUid: seriesUid })
      .filter((o) => o.modality === 'RTSTRUCT')
      .map((o) => ({ id: o.sopInstanceUid, label: o.label || o.path.split(/[\\/]/).pop() || o.sopInstanceUid, kind: 'rtstruct' as const }));
    const sets = [...new Set(getResults(db, seriesUid).filter((r) => r.hasMask).map((r) => r.templateSet))];
    return [...rt, ...sets.map((set) => ({ id: `${RESULTS_PREFIX}${set}`, label: `results: ${set}`, kind: 'results' as const }))];
  },
  async getContours(db, seriesUid, structureSetId) {
    if (structureSetId.startsWith(RESULTS_PREFIX)) return resultContours(db, seriesUid, structureSetId.slice(RESULTS_PREFIX.length));
    const obj = getObjects(db, { referencedSeriesUid: seriesUid }).find((o) => o.sopInstanceUid === structureSetId);
    if (!obj) throw new NotFoundError(`structure set ${structureSetId} does not reference series ${seriesUid}`, { seriesUid });
    return readRtstructContours(obj.path);
  },
};
