/**
 * One structure's contour from its propagated templates: joint label fusion or locally weighted
 * voting, then the query's own HU (intensity refinement), the threshold and the largest component.
 * A pure function of its job, so the segmenter runs one structure per worker thread
 * (localize/atlas/atlas-worker.ts) and gets the same mask it would compute on its own thread.
 * A query fused on a coarser grid (segmentation-grid.ts) gets its contour on its own grid from the
 * same job: the membership is carried there in the worker, and only the final mask travels back.
 */
import type { Volume } from '../../volume/volume.js';
import type { Geometry } from '../../volume/geometry.js';
import type { AtlasOptions, TemplateJobResult } from '../../registration/template-job.js';
import type { JobKind } from '../../registration/pool.js';
import type { SegmentedStructure } from '../segmenter.js';
import { countNonZero } from '../../metrics/masks.js';
import { keepLargestComponents } from '../cleanup.js';
import { fusedMembership, fuseMasks } from './fuse-masks.js';
import { refineWithIntensity } from './intensity-refine.js';
import { jointFusionMembership } from './joint-fusion.js';
import { membershipOnGrid } from './segmentation-grid.js';

export interface FuseJob {
  name: string;
  volume: Volume;
  /** The templates' registrations (only `name`'s structure is read; transforms are not). */
  results: TemplateJobResult[];
  options: AtlasOptions;
  /**
   * The query's own grid when `volume` is a coarser grid over it: the contour is returned on this
   * grid (confidence, flags and provenance stay those of the coarse fusion).
   */
  onGrid?: Geometry;
}

export function fuseStructure({ name, volume, results, options: o, onGrid }: FuseJob): SegmentedStructure {
  const beta = o.fusionLocalSigmaMm > 0 ? o.fusionLocalBeta : 0;
  let membership: Float32Array;
  if (o.fusionMethod === 'joint') {
    membership = jointFusionMembership(name, volume, results, { patchRadiusMm: o.jointPatchRadiusMm, beta: o.jointBeta, alpha: o.jointAlpha, clipHu: o.jointClipHu, unitHu: o.jointUnitHu, searchMm: o.jointSearchMm, nonNegative: o.jointNonNegative });
    if (o.jointMix < 1) {
      const local = fusedMembership(name, volume, results, beta);
      for (let q = 0; q < membership.length; q++) membership[q] = o.jointMix * membership[q]! + (1 - o.jointMix) * local[q]!;
    }
  } else {
    membership = fusedMembership(name, volume, results, beta);
  }
  if (o.intensityRefine) refineWithIntensity(membership, volume.data, { binHu: o.intensityBinHu, smoothHu: o.intensitySmoothHu });
  const threshold = o.intensityRefine ? o.intensityThreshold : o.fusionMethod === 'joint' ? 0.5 : o.fusionThreshold;
  const fused = fuseMasks(name, volume, results, threshold, beta, membership);
  if (onGrid) return withMask(fused, membershipOnGrid(membership, volume, onGrid, threshold), onGrid, o.fusionLargestComponent);
  return o.fusionLargestComponent && fused.voxels > 0 ? withMask(fused, fused.mask, volume, true) : fused;
}

/** `fused` with `mask` (on `grid`), reduced to its largest component when asked: voxels and volume follow. */
function withMask(fused: SegmentedStructure, mask: Uint8Array, grid: Geometry, largestComponent: boolean): SegmentedStructure {
  if (largestComponent) keepLargestComponents(mask, [...grid.dims], 1);
  const voxels = countNonZero(mask);
  return { ...fused, mask, voxels, volumeCc: (voxels * grid.spacing[0] * grid.spacing[1] * grid.spacing[2]) / 1000 };
}

/**
 * The job for one structure, carrying only what its fusion reads (a worker gets a copy of it):
 * `onGrid`, the query's own grid when `volume` is coarser, travels as geometry without voxels.
 */
export function fuseJob(name: string, volume: Volume, results: TemplateJobResult[], options: AtlasOptions, onGrid?: Geometry): FuseJob {
  return {
    name, volume, options,
    ...(onGrid ? { onGrid: { dims: onGrid.dims, spacing: onGrid.spacing, origin: onGrid.origin, direction: onGrid.direction } } : {}),
    results: results.map((r) => ({ ...r, transforms: { global: r.transforms.global, globalNcc: r.transforms.globalNcc, local: {} }, structures: r.structures.filter((s) => s.name === name) })),
  };
}

export const FUSE_JOBS: JobKind<FuseJob, SegmentedStructure> = { name: 'fuse', run: (job) => fuseStructure(job) };
