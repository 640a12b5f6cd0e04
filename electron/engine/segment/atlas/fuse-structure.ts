/**
 * One structure's contour from its propagated templates: joint label fusion or locally weighted
 * voting, then the query's own HU (intensity refinement), the threshold and the largest component.
 * A pure function of its job, so the segmenter runs one structure per worker thread
 * (localize/atlas/atlas-worker.ts) and gets the same mask it would compute on its own thread.
 */
import type { Volume } from '../../volume/volume.js';
import type { AtlasOptions, TemplateJobResult } from '../../registration/template-job.js';
import type { JobKind } from '../../registration/pool.js';
import type { SegmentedStructure } from '../segmenter.js';
import { countNonZero } from '../../metrics/masks.js';
import { keepLargestComponents } from '../cleanup.js';
import { fusedMembership, fuseMasks } from './fuse-masks.js';
import { refineWithIntensity } from './intensity-refine.js';
import { jointFusionMembership } from './joint-fusion.js';

export interface FuseJob {
  name: string;
  volume: Volume;
  /** The templates' registrations (only `name`'s structure is read; transforms are not). */
  results: TemplateJobResult[];
  options: AtlasOptions;
  /** Return the posterior membership and its threshold too (to carry the contour to a finer grid). */
  keepMembership?: boolean;
}

/** A fused structure, with its membership when the job asked for it. */
export interface FusedStructure extends SegmentedStructure {
  membership?: Float32Array;
  threshold?: number;
}

export function fuseStructure({ name, volume, results, options: o, keepMembership }: FuseJob): FusedStructure {
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
  if (o.fusionLargestComponent && fused.voxels > 0) {
    keepLargestComponents(fused.mask, [...volume.dims], 1);
    fused.voxels = countNonZero(fused.mask);
    fused.volumeCc = (fused.voxels * volume.spacing[0] * volume.spacing[1] * volume.spacing[2]) / 1000;
  }
  return keepMembership ? { ...fused, membership, threshold } : fused;
}

/** The job for one structure, carrying only what its fusion reads (a worker gets a copy of it). */
export function fuseJob(name: string, volume: Volume, results: TemplateJobResult[], options: AtlasOptions, keepMembership = false): FuseJob {
  return {
    name, volume, options, keepMembership,
    results: results.map((r) => ({ ...r, transforms: { global: r.transforms.global, globalNcc: r.transforms.globalNcc, local: {} }, structures: r.structures.filter((s) => s.name === name) })),
  };
}

export const FUSE_JOBS: JobKind<FuseJob, FusedStructure> = { name: 'fuse', run: (job) => fuseStructure(job) };
