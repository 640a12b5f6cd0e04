/**
 * MedLAM's method constants (DESIGN.md "MedLAM localization"; the reference's values from
 * config/test_config/*.txt and MedLAM/Anatomy_detection.py). They travel in the model manifest's
 * `constants` of the medlam-full model so that a retrained network can change them without code.
 */
import { ModelError } from '../errors.js';

export interface MedlamConstants {
  /** Network input patch, [z, y, x] voxels. */
  patchSize: [number, number, number];
  /** Zeros added on every side after normalisation (half the patch). */
  padEachSide: number;
  /** Resampling target, mm per canonical axis. */
  targetSpacingMm: [number, number, number];
  /** Coarse regression scale: relative position (mm) = ratio * tanh(support - query), [z, y, x]. */
  distanceRatioZyx: [number, number, number];
  /** Piecewise-linear HU normalisation: thresholds (HU) and the values they map to. */
  normalisationThresholdsHu: number[];
  normalisationValues: number[];
  /** Centre-crop kernel edge per feature scale (feature0 at 1/4, feature1 at 1/2, feature2 full). */
  kernelSizes: [number, number, number];
  /** Number of coarse query crops and their half range around the middle of the padded volume. */
  queryCrops: number;
  queryCropRange: number;
  /** SPL: slices per sub-part and the largest number of parts. */
  sliceInterval: number;
  maxParts: number;
}

export const DEFAULT_MEDLAM_CONSTANTS: MedlamConstants = {
  patchSize: [64, 64, 64],
  padEachSide: 32,
  targetSpacingMm: [3, 3, 3],
  distanceRatioZyx: [1500, 600, 600],
  normalisationThresholdsHu: [-1000, -200, 200, 1500],
  normalisationValues: [0, 0.2, 0.8, 1],
  kernelSizes: [2, 4, 8],
  queryCrops: 10,
  queryCropRange: 10,
  sliceInterval: 2,
  maxParts: 6,
};

function vec(v: unknown, n: number, key: string): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new ModelError(`model manifest constant "${key}" must be ${n} numbers`);
  }
  return v as number[];
}

function num(v: unknown, key: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelError(`model manifest constant "${key}" must be a number`);
  return v;
}

/** Merges a manifest's `constants` over the defaults, validating each. */
export function medlamConstants(raw: Record<string, unknown> | undefined): MedlamConstants {
  const c = raw ?? {};
  const d = DEFAULT_MEDLAM_CONSTANTS;
  const th = c.normalisationThresholdsHu === undefined ? undefined : vec(c.normalisationThresholdsHu, (c.normalisationThresholdsHu as unknown[]).length, 'normalisationThresholdsHu');
  const nv = c.normalisationValues === undefined ? undefined : vec(c.normalisationValues, (c.normalisationValues as unknown[]).length, 'normalisationValues');
  const out: MedlamConstants = {
    patchSize: (vec(c.patchSize, 3, 'patchSize') ?? d.patchSize) as MedlamConstants['patchSize'],
    padEachSide: num(c.padEachSide, 'padEachSide') ?? d.padEachSide,
    targetSpacingMm: (vec(c.targetSpacingMm, 3, 'targetSpacingMm') ?? d.targetSpacingMm) as MedlamConstants['targetSpacingMm'],
    distanceRatioZyx: (vec(c.distanceRatioZyx, 3, 'distanceRatioZyx') ?? d.distanceRatioZyx) as MedlamConstants['distanceRatioZyx'],
    normalisationThresholdsHu: th ?? d.normalisationThresholdsHu,
    normalisationValues: nv ?? d.normalisationValues,
    kernelSizes: (vec(c.kernelSizes, 3, 'kernelSizes') ?? d.kernelSizes) as MedlamConstants['kernelSizes'],
    queryCrops: num(c.queryCrops, 'queryCrops') ?? d.queryCrops,
    queryCropRange: num(c.queryCropRange, 'queryCropRange') ?? d.queryCropRange,
    sliceInterval: num(c.sliceInterval, 'sliceInterval') ?? d.sliceInterval,
    maxParts: num(c.maxParts, 'maxParts') ?? d.maxParts,
  };
  if (out.normalisationThresholdsHu.length !== out.normalisationValues.length || out.normalisationValues.length < 2) {
    throw new ModelError('model manifest: normalisationThresholdsHu and normalisationValues must have the same length (>= 2)');
  }
  return out;
}
