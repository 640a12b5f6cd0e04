/**
 * The localizer interface: MedLAM (ONNX) and the weight-free atlas backend both implement it, and
 * the CLI, the batch runner and the UI only ever see this. Everything in and out is LPS mm.
 */
import type { Vec3 } from '../volume/geometry.js';
import type { Volume } from '../volume/volume.js';

/** An axis-aligned box in LPS mm: min and max corners (inclusive extents of the organ). */
export interface Box {
  min: Vec3;
  max: Vec3;
}

/** One template scan's annotation of one structure. */
export interface TemplateMemberInput {
  seriesUid: string;
  /** Six extreme points, LPS mm: the organ's lowest and highest point along each volume axis. */
  points: Vec3[];
  /** The template CT (loaded on demand: support features are cached, so MedLAM often never needs it). */
  loadVolume(): Promise<Volume>;
  /** The structure's mask on the template grid, when the template came from contours (atlas backends). */
  loadMask?(): Promise<Uint8Array | undefined>;
  /**
   * Whether loadMask will find a mask, when the caller knows without loading it (the archive's
   * index): the atlas backend then decides which structures it can propagate without reading every
   * template's masks, a cost that would grow with the library. Undefined: load to find out.
   */
  hasMask?: boolean;
}

export interface StructureTemplates {
  name: string;
  members: TemplateMemberInput[];
}

/** 'edited': a reviewer changed the box or points and the structure was re-segmented (exported as MANUAL). */
export type StructureFlag = 'absent' | 'cut-off' | 'low-confidence' | 'edited';

export interface LocalizedStructure {
  name: string;
  /** One box (WPL) or a stack of boxes from inferior to superior (SPL). */
  boxes: Box[];
  /** The predicted extreme points, LPS mm (6, or 6 per SPL part). */
  extremePoints: Vec3[];
  /** 0..1, higher is better; how it is computed is the backend's, documented there. */
  confidence: number;
  flags: StructureFlag[];
  /** Template series that voted for this structure (atlas backend: the selected ones). */
  templates?: string[];
}

export interface ModelRef {
  name: string;
  sha256: string;
}

export interface Progress {
  done: number;
  total: number;
  message?: string;
}

export interface LocalizeRequest {
  seriesUid: string;
  query: Volume;
  /** Template set name (support caches are keyed by it). */
  templateSet: string;
  structures: StructureTemplates[];
  mode: 'wpl' | 'spl';
  signal?: AbortSignal;
  onProgress?(p: Progress): void;
}

export interface Localizer {
  readonly name: string;
  models(): ModelRef[];
  localize(req: LocalizeRequest): Promise<LocalizedStructure[]>;
}
