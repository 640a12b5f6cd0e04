/**
 * Reads any RT Structure Set (ours, a TPS's, the 4D-Lung one) into structures with their rings in
 * LPS mm, and rasterises them onto the referenced series grid (even-odd per slice, PS3.3 C.8.8.6.3).
 * Tolerates what real files contain: empty items in ContourImageSequence (the 4D-Lung file's first
 * item is empty), POINT ROIs (kept as points, not rasterised), ROIs without contours.
 */
import type { DataSet } from 'dicom-parser';
import { readFileSync } from 'node:fs';
import { contoursToMask } from '../contours/rasterize.js';
import { parseDicomBytes } from '../dicom/parse.js';
import { InputError } from '../errors.js';
import type { Geometry, Vec3 } from '../volume/geometry.js';
import { numsOf, readPart10, seqOf, strOf } from './dcmjs.js';
import { RT_STRUCTURE_SET_STORAGE, type Rgb } from './types.js';

export interface ReadContour {
  geometricType: string;
  points: Vec3[];
  referencedSopInstanceUid?: string;
}

export interface ReadStructure {
  roiNumber: number;
  name: string;
  color?: Rgb;
  interpretedType: string;
  generationAlgorithm: string;
  contours: ReadContour[];
}

export interface ReadRtstruct {
  file: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  patientId: string;
  frameOfReferenceUid: string;
  /** The image series the contours were drawn on (from ReferencedFrameOfReferenceSequence). */
  referencedSeriesUid: string;
  referencedImageUids: string[];
  label: string;
  structures: ReadStructure[];
}

/**
 * ContourData longer than this (about 300,000 points of DS text) is refused before dcmjs parses it:
 * dcmjs took over 10 s for a million-point contour, and no planning system draws such a ring.
 */
export const MAX_CONTOUR_DATA_BYTES = 4 << 20;

/** Sequences nested deeper than this are refused (an RTSTRUCT nests four deep; dcmjs slows badly at 1,000). */
export const MAX_SEQUENCE_DEPTH = 16;

function depthOf(ds: DataSet, limit: number): number {
  let max = 0;
  for (const el of Object.values(ds.elements)) {
    for (const item of el.items ?? []) {
      if (!item.dataSet) continue;
      max = Math.max(max, 1 + (limit > 0 ? depthOf(item.dataSet, limit - 1) : 0));
      if (max > limit) return max;
    }
  }
  return max;
}

/**
 * A fast pre-scan with dicom-parser (no values decoded), as the importer reads every object: a
 * truncated or corrupt file, sequences nested too deep and contours too large are refused before
 * dcmjs, which tolerates damage by reading on and took over 10 s on such files.
 */
function checkContourSizes(file: string): void {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return; // readPart10 reports it
  }
  const ds = parseDicomBytes(bytes, file).dataSet;
  if (depthOf(ds, MAX_SEQUENCE_DEPTH) > MAX_SEQUENCE_DEPTH) {
    throw new InputError(`RTSTRUCT ${file}: sequences nested more than ${MAX_SEQUENCE_DEPTH} deep; refused`, { file });
  }
  for (const roi of ds.elements.x30060039?.items ?? []) {
    for (const c of roi.dataSet?.elements.x30060040?.items ?? []) {
      const el = c.dataSet?.elements.x30060050;
      if (el && el.length > MAX_CONTOUR_DATA_BYTES) {
        throw new InputError(
          `RTSTRUCT ${file}: a contour holds ${(el.length / 2 ** 20).toFixed(1)} MB of ContourData (3006,0050), about ${Math.round(el.length / 20).toLocaleString('en')} points; more than ${MAX_CONTOUR_DATA_BYTES / 2 ** 20} MB per contour is refused`,
          { file },
        );
      }
    }
  }
}

export function readRtstruct(file: string): ReadRtstruct {
  checkContourSizes(file);
  const { dataset: ds, meta } = readPart10(file);
  const cls = strOf(ds, 'SOPClassUID') || strOf(meta, 'MediaStorageSOPClassUID');
  if (cls !== RT_STRUCTURE_SET_STORAGE) throw new InputError(`${file} is not an RT Structure Set (SOP class ${cls || 'missing'})`, { file });
  let frameOfReferenceUid = '';
  let referencedSeriesUid = '';
  const referencedImageUids: string[] = [];
  for (const f of seqOf(ds, 'ReferencedFrameOfReferenceSequence')) {
    frameOfReferenceUid ||= strOf(f, 'FrameOfReferenceUID');
    for (const st of seqOf(f, 'RTReferencedStudySequence')) {
      for (const se of seqOf(st, 'RTReferencedSeriesSequence')) {
        referencedSeriesUid ||= strOf(se, 'SeriesInstanceUID');
        for (const im of seqOf(se, 'ContourImageSequence')) {
          const uid = strOf(im, 'ReferencedSOPInstanceUID');
          if (uid) referencedImageUids.push(uid);
        }
      }
    }
  }
  const byNumber = new Map<string, ReadStructure>();
  for (const r of seqOf(ds, 'StructureSetROISequence')) {
    const num = strOf(r, 'ROINumber');
    byNumber.set(num, {
      roiNumber: Number(num),
      name: strOf(r, 'ROIName'),
      interpretedType: '',
      generationAlgorithm: strOf(r, 'ROIGenerationAlgorithm'),
      contours: [],
    });
    frameOfReferenceUid ||= strOf(r, 'ReferencedFrameOfReferenceUID');
  }
  for (const rc of seqOf(ds, 'ROIContourSequence')) {
    const s = byNumber.get(strOf(rc, 'ReferencedROINumber'));
    if (!s) continue;
    const color = numsOf(rc, 'ROIDisplayColor');
    if (color.length === 3) s.color = color as Rgb;
    for (const c of seqOf(rc, 'ContourSequence')) {
      const data = numsOf(c, 'ContourData');
      const points: Vec3[] = [];
      for (let i = 0; i + 2 < data.length; i += 3) points.push([data[i]!, data[i + 1]!, data[i + 2]!]);
      const ref = seqOf(c, 'ContourImageSequence')[0];
      const uid = ref ? strOf(ref, 'ReferencedSOPInstanceUID') : '';
      if (points.length === 0) continue;
      s.contours.push({ geometricType: strOf(c, 'ContourGeometricType'), points, ...(uid ? { referencedSopInstanceUid: uid } : {}) });
    }
  }
  for (const o of seqOf(ds, 'RTROIObservationsSequence')) {
    const s = byNumber.get(strOf(o, 'ReferencedROINumber'));
    if (s) s.interpretedType = strOf(o, 'RTROIInterpretedType');
  }
  return {
    file,
    sopInstanceUid: strOf(ds, 'SOPInstanceUID'),
    seriesInstanceUid: strOf(ds, 'SeriesInstanceUID'),
    studyInstanceUid: strOf(ds, 'StudyInstanceUID'),
    patientId: strOf(ds, 'PatientID'),
    frameOfReferenceUid,
    referencedSeriesUid,
    referencedImageUids,
    label: strOf(ds, 'StructureSetLabel'),
    structures: [...byNumber.values()],
  };
}

export interface RasterizedStructure {
  name: string;
  mask: Uint8Array;
  voxels: number;
  /** Rings that could not be placed on the grid, with why. */
  skipped: Array<{ ring: number; reason: string }>;
}

/** Rasterises every structure's closed planar contours onto `g` (the referenced series grid). */
export function rasterizeStructures(rt: ReadRtstruct, g: Geometry, sliceToleranceMm = 0.05): RasterizedStructure[] {
  return rt.structures.map((s) => {
    const rings = s.contours.filter((c) => c.geometricType === 'CLOSED_PLANAR').map((c) => c.points);
    const r = contoursToMask(rings, g, sliceToleranceMm);
    let voxels = 0;
    for (const v of r.mask) voxels += v;
    return { name: s.name, mask: r.mask, voxels, skipped: r.skipped };
  });
}
