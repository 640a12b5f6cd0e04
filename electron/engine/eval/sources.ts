/**
 * Where reference and predicted structures come from, each turned into masks (and boxes) on the
 * series grid: a label map + names JSON, an RTSTRUCT rasterised onto the grid, or the results stored
 * in the database for the series.
 */
import { readFileSync } from 'node:fs';
import type { Db } from '../store/db.js';
import { InputError, NotFoundError } from '../errors.js';
import type { Box } from '../localize/localizer.js';
import { readNiftiLabels } from '../nifti/nifti.js';
import { contoursToMask } from '../contours/rasterize.js';
import { readRtstruct } from '../rtstruct/read.js';
import { getResultMask, getResults } from '../store/results.js';
import type { Geometry } from '../volume/geometry.js';
import type { LabelVolume } from '../volume/volume.js';
import { labelsOnGrid } from './resample-labels.js';

export interface EvalStructure {
  name: string;
  /** 0/1 on the series grid; absent for a localisation-only result. */
  mask?: Uint8Array;
  /**
   * The same, built on demand: a structure set can name a hundred structures (TotalSegmentator) on a
   * 512x512xN grid, and holding every mask at once would take gigabytes; only paired ones are built.
   */
  loadMask?(): Uint8Array;
  /** Localiser boxes, LPS mm (stored results only). */
  boxes?: Box[];
}

export interface StructureSource {
  /** What it was read from, for messages and reports. */
  source: string;
  structures: EvalStructure[];
  /** Problems found while building masks (e.g. contours off every slice), filled as masks load. */
  warnings?: string[];
}

/** `--names FILE`: a JSON object mapping label values to structure names. */
export function readLabelNames(file: string): Map<number, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new InputError(`cannot read label names ${file}: ${(cause as Error).message}`, { file }, { cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(`label names ${file} must be a JSON object mapping label values to names, e.g. {"1": "Brainstem"}`, { file });
  }
  const names = new Map<number, string>();
  for (const [k, v] of Object.entries(raw)) {
    const value = Number(k);
    if (!Number.isInteger(value) || value <= 0 || value > 65535) throw new InputError(`label names ${file}: key '${k}' is not a label value 1..65535`, { file });
    if (typeof v !== 'string' || v.trim() === '') throw new InputError(`label names ${file}: label ${k} has no name`, { file });
    names.set(value, v.trim());
  }
  if (names.size === 0) throw new InputError(`label names ${file} names no label`, { file });
  return names;
}

/** One structure per named label, its mask built when asked for (a label absent from the map gives an empty mask). */
export function structuresFromLabels(labels: Uint8Array | Uint16Array, names: Map<number, string>): EvalStructure[] {
  return [...names.entries()].map(([value, name]) => ({
    name,
    loadMask: () => {
      const m = new Uint8Array(labels.length);
      for (let p = 0; p < labels.length; p++) if (labels[p] === value) m[p] = 1;
      return m;
    },
  }));
}

/** A label map (NIfTI) and its names, on `grid` (resampled by nearest neighbour if its grid differs). */
export function labelMapSource(file: string, namesFile: string, grid: Geometry, seriesUid?: string): StructureSource {
  const lv: LabelVolume = readNiftiLabels(file);
  const names = readLabelNames(namesFile);
  const labels = labelsOnGrid(lv, grid, { file, ...(seriesUid ? { seriesUid } : {}) });
  return { source: file, structures: structuresFromLabels(labels, names), warnings: [] };
}

export interface SeriesFrame {
  seriesUid: string;
  frameOfReferenceUid?: string;
}

/** An RTSTRUCT's closed planar ROIs rasterised onto the series grid. */
export function rtstructSource(file: string, grid: Geometry, series: SeriesFrame): StructureSource {
  const rt = readRtstruct(file);
  if (series.frameOfReferenceUid && rt.frameOfReferenceUid && rt.frameOfReferenceUid !== series.frameOfReferenceUid) {
    throw new InputError(
      `RTSTRUCT ${file} is in frame of reference ${rt.frameOfReferenceUid}, series ${series.seriesUid} in ${series.frameOfReferenceUid}: its contours cannot be placed on that series`,
      { file, seriesUid: series.seriesUid },
    );
  }
  const warnings: string[] = [];
  const structures = rt.structures
    // POINT-only ROIs and ROIs without contours have nothing to evaluate.
    .filter((s) => s.contours.some((c) => c.geometricType === 'CLOSED_PLANAR'))
    .map((s) => ({
      name: s.name,
      loadMask: () => {
        const r = contoursToMask(s.contours.filter((c) => c.geometricType === 'CLOSED_PLANAR').map((c) => c.points), grid);
        // A ring that fits no slice would silently shrink the structure: say so with the result.
        for (const k of r.skipped) warnings.push(`${file}: ${s.name} contour ${k.ring + 1} not rasterised: ${k.reason}`);
        return r.mask;
      },
    }));
  return { source: file, structures, warnings };
}

/**
 * The results stored for the series. With several template sets holding results for it, `setName`
 * must say which (the same structure from two sets would otherwise be ambiguous).
 */
export function storedResultsSource(db: Db, seriesUid: string, setName?: string): StructureSource {
  const rows = getResults(db, seriesUid, setName);
  if (rows.length === 0) {
    throw new NotFoundError(
      `no stored results for series ${seriesUid}${setName ? ` in template set '${setName}'` : ''}: run localize/segment first or pass --prediction`,
      { seriesUid, ...(setName ? { templateSet: setName } : {}) },
    );
  }
  const sets = new Set(rows.map((r) => r.templateSet));
  if (!setName && sets.size > 1) {
    throw new InputError(`series ${seriesUid} has results from several template sets (${[...sets].join(', ')}): choose one with --set`, { seriesUid });
  }
  return {
    source: `stored results${setName ? ` of '${setName}'` : ''}`,
    warnings: [],
    structures: rows.map((r) => {
      const loadMask = (): Uint8Array => {
        const m = getResultMask(db, r.id);
        if (!m) throw new NotFoundError(`stored result ${r.structure} of series ${seriesUid} lost its mask`, { seriesUid, structure: r.structure });
        return m;
      };
      return { name: r.structure, ...(r.hasMask ? { loadMask } : {}), ...(r.boxes.length > 0 ? { boxes: r.boxes } : {}) };
    }),
  };
}
