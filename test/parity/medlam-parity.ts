/**
 * Shared steps of the MedLAM parity tests: everything comes from the case folder's case.json (input
 * NIfTI names, model files, constants, geometry), so unseen cases laid out the same way are checked
 * unchanged.
 */
import { resolve } from 'node:path';
import { readNifti, readNiftiLabels } from '../../electron/engine/nifti/nifti.js';
import { DEFAULT_MEDLAM_CONSTANTS, type MedlamConstants } from '../../electron/engine/localize/constants.js';
import { preprocess, resampleLabelsReference, type Preprocessed } from '../../electron/engine/localize/preprocess.js';
import { boundsOf, referenceExtremePoints, referenceSplitExtremePoints, splitCount } from '../../electron/engine/localize/extreme-points.js';
import type { Vec3 } from '../../electron/engine/volume/geometry.js';
import type { Shape3 } from '../../electron/engine/volume/resample.js';
import { inputPath, structureLabels, type MedlamCase } from './medlam-golden.js';

/** The case's constants mapped onto ours (case.json `constants`). */
export function caseConstants(c: MedlamCase): MedlamConstants {
  const k = c.json.constants as Record<string, unknown>;
  const ks = k.kernel_sizes as Record<string, number> | undefined;
  const scales = (k.feature_scale_ls as string[] | undefined) ?? ['feature0', 'feature1', 'feature2'];
  return {
    ...DEFAULT_MEDLAM_CONSTANTS,
    patchSize: (k.patch_size as MedlamConstants['patchSize']) ?? DEFAULT_MEDLAM_CONSTANTS.patchSize,
    padEachSide: (k.pad_each_side as number) ?? DEFAULT_MEDLAM_CONSTANTS.padEachSide,
    targetSpacingMm: (k.target_spacing_mm as MedlamConstants['targetSpacingMm']) ?? DEFAULT_MEDLAM_CONSTANTS.targetSpacingMm,
    distanceRatioZyx: (k.distance_ratio_zyx as MedlamConstants['distanceRatioZyx']) ?? DEFAULT_MEDLAM_CONSTANTS.distanceRatioZyx,
    normalisationThresholdsHu: (k.normalisation_thresholds_hu as number[]) ?? DEFAULT_MEDLAM_CONSTANTS.normalisationThresholdsHu,
    normalisationValues: (k.normalisation_values as number[]) ?? DEFAULT_MEDLAM_CONSTANTS.normalisationValues,
    kernelSizes: ks ? (scales.map((s) => ks[s]!) as MedlamConstants['kernelSizes']) : DEFAULT_MEDLAM_CONSTANTS.kernelSizes,
    queryCrops: (k.iter_patch_num as number) ?? DEFAULT_MEDLAM_CONSTANTS.queryCrops,
    sliceInterval: (k.slice_interval as number | null) ?? DEFAULT_MEDLAM_CONSTANTS.sliceInterval,
  };
}

/** The model file for parity: the float64-InstanceNorm export when the case names one (README O1). */
export function parityModelFile(c: MedlamCase): string {
  return resolve(c.dir, c.json.model.onnx_in64 ?? c.json.model.onnx);
}

export interface SupportInputs {
  volumes: Preprocessed[];
  labels: { data: Uint8Array; shape: Shape3 }[];
}

export function loadInputs(c: MedlamCase, dataRoot: string, k: MedlamConstants): { query: Preprocessed; support: SupportInputs } {
  const need = (f: string): string => {
    const p = inputPath(c, dataRoot, f);
    if (!p) throw new Error(`case ${c.json.case}: input ${f} not found under ${dataRoot}`);
    return p;
  };
  const query = preprocess(readNifti(need(c.json.inputs.query_ct)), k, c.json.inputs.query_ct);
  const volumes = c.json.inputs.support_ct.map((f) => preprocess(readNifti(need(f)), k, f));
  const labels = c.json.inputs.support_labels.map((f) => resampleLabelsReference(readNiftiLabels(need(f)), k));
  return { query, support: { volumes, labels } };
}

/** Each template's extreme-point rows for a structure, by the reference's WPL/SPL rule (Q6, Q7). */
export function templateRows(c: MedlamCase, s: SupportInputs, label: number, k: MedlamConstants): Vec3[][] {
  const masks = s.labels.map((l) => ({ shape: l.shape, data: l.data, value: label }));
  let split = 0;
  if (c.json.constants.bbox_mode === 'SPL') {
    const lengths = masks.map((m) => {
      const b = boundsOf(m);
      return b ? b.max[0] - b.min[0] : 0;
    });
    split = splitCount(lengths, k.sliceInterval, k.maxParts);
  }
  return masks.map((m) => {
    const r = split > 0 ? referenceSplitExtremePoints(m, split) : referenceExtremePoints(m);
    if (!r) throw new Error(`case ${c.json.case}: structure ${label} absent from a template`);
    return r;
  });
}

export { structureLabels };
