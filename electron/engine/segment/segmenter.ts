/**
 * The segmenter interface: MedSAM/SAM (ONNX) and the atlas backend implement it. A request carries
 * the localizer's boxes (LPS mm; an SPL stack gives several); the result is a mask per structure on
 * the query volume's grid.
 */
import type { Volume } from '../volume/volume.js';
import type { Box, ModelRef, Progress, StructureFlag, TemplateMemberInput } from '../localize/localizer.js';

export interface SegmentStructureInput {
  name: string;
  boxes: Box[];
  /** Template members, for backends that propagate template contours (atlas). */
  members?: TemplateMemberInput[];
}

export interface SegmentedStructure {
  name: string;
  /** 0/1 per voxel, same layout as the query volume's data. */
  mask: Uint8Array;
  voxels: number;
  volumeCc: number;
  confidence: number;
  flags: StructureFlag[];
  /** Template series whose contours were fused into this mask (atlas backend: the selected ones). */
  templates?: string[];
}

export interface SegmentRequest {
  seriesUid: string;
  volume: Volume;
  structures: SegmentStructureInput[];
  signal?: AbortSignal;
  onProgress?(p: Progress): void;
}

export interface Segmenter {
  readonly name: string;
  models(): ModelRef[];
  segment(req: SegmentRequest): Promise<SegmentedStructure[]>;
}
