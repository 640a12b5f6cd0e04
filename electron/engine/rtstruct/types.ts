/**
 * Plain data in and out of the RTSTRUCT writer and reader: the CT series an RTSTRUCT refers to,
 * the structures to write, and what was written. Positions are LPS mm.
 */
import type { Geometry, Vec3 } from '../volume/geometry.js';
import type { Naturalized } from './dcmjs.js';

export const RT_STRUCTURE_SET_STORAGE = '1.2.840.10008.5.1.4.1.1.481.3';
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
/** Detached Study Management SOP Class: the value PS3.3 C.8.8.5 expects in RTReferencedStudySequence. */
export const STUDY_COMPONENT_SOP_CLASS = '1.2.840.10008.3.1.2.3.1';

export interface CtInstanceRef {
  sopInstanceUid: string;
  sopClassUid: string;
  /** ImagePositionPatient of the slice. */
  position: Vec3;
}

/** The referenced image series, as the archive and the first CT file describe it. */
export interface CtSeriesRef {
  seriesInstanceUid: string;
  studyInstanceUid: string;
  frameOfReferenceUid: string;
  /** Patient and study attributes of the first CT file (naturalized keywords), copied into the RTSTRUCT. */
  header: Naturalized;
  /** Slices in grid order (k = 0 .. dims[2]-1). */
  instances: CtInstanceRef[];
  geometry: Geometry;
}

export type RoiGenerationAlgorithm = 'AUTOMATIC' | 'SEMIAUTOMATIC' | 'MANUAL';
export type Rgb = [number, number, number];

export interface StructureInput {
  /** TG-263 name, at most 16 characters, unique within the structure set. */
  name: string;
  /** [r, g, b] 0..255 or '#rrggbb'. */
  color: Rgb | string;
  /** RT ROI Interpreted Type (PS3.3 C.8.8.8.1), e.g. ORGAN, PTV, AVOIDANCE. Default ORGAN. */
  interpretedType?: string;
  generationAlgorithm?: RoiGenerationAlgorithm;
  /** ROI Generation Description (LO, <= 64 characters): models and template set. */
  generationDescription?: string;
  /** ROI Description (ST, <= 1024 characters): the audit summary (audit/summary.ts). */
  description?: string;
  /** A mask on the series grid, or rings in LPS mm (one of the two). */
  mask?: Uint8Array;
  contours?: Vec3[][];
}

export interface RtstructOptions {
  /** StructureSetLabel (SH, <= 16 characters). */
  label?: string;
  /** StructureSetName (LO). */
  name?: string;
  /** StructureSetDescription (ST): the full provenance (model hashes, template set). */
  description?: string;
  seriesDescription?: string;
  seriesNumber?: number;
  /** Douglas-Peucker tolerance for mask contours, mm (default 0: exact voxel-edge outline). */
  simplifyMm?: number;
  /** How far (mm) a contour may lie from its CT slice plane (default 0.05). */
  sliceToleranceMm?: number;
  now?: Date;
}

export interface ExportedStructure {
  name: string;
  roiNumber: number;
  contours: number;
  points: number;
}

export interface BuiltRtstruct {
  dataset: Naturalized;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  structures: ExportedStructure[];
  /** Structures left out (empty ones) and other non-fatal findings. */
  warnings: string[];
}

/** One problem found by the pre-flight checks, naming the structure (or the set) at fault. */
export interface PreflightProblem {
  /** Errors refuse the export; warnings are reported with it. */
  severity: 'error' | 'warning';
  structure?: string;
  check: string;
  message: string;
}
