/**
 * Every metric for one structure: a reference mask against a predicted mask and/or predicted boxes,
 * all on one grid (Geometry). See boxes.ts and surface-distance.ts for the definitions.
 *
 * Empty structures have fixed, documented values (JSON null where a distance does not exist):
 *
 * | case                                  | dice | hd95Mm | surfaceDice2mm | boxIou | wallDistanceMm |
 * |---------------------------------------|------|--------|----------------|--------|----------------|
 * | both empty ('both-empty')             | 1    | 0      | 1              | null   | null           |
 * | reference empty, prediction not       | 0    | null   | 0              | 0      | null           |
 * | prediction empty, reference not       | 0    | null   | 0              | 0      | null           |
 *
 * Both empty scores as agreement (the organ is absent and nothing was predicted); a distance to a
 * surface that does not exist is undefined, not a large number, so cohort statistics skip nulls and
 * report how many values they averaged. A prediction that has boxes but no mask (localisation only)
 * gets the box metrics and null for the mask metrics ('boxes-only').
 */
import { InputError } from '../errors.js';
import type { Box } from '../localize/localizer.js';
import type { Geometry } from '../volume/geometry.js';
import { boxIou, enclosingBox, growToVoxelEdges, maskBoxLps, wallDistanceMm, type BoxConvention } from './boxes.js';
import { countIntersection, countNonZero, cropMask, maskIndexBox, unionIndexBox } from './masks.js';
import { assd, hausdorff, hd95, surfaceDice, surfaceDistancesOnCrop } from './surface-distance.js';

export type MetricStatus = 'ok' | 'both-empty' | 'reference-empty' | 'prediction-empty' | 'boxes-only';

export interface StructureMetrics {
  name: string;
  dice: number | null;
  hd95Mm: number | null;
  surfaceDice2mm: number | null;
  boxIou: number | null;
  wallDistanceMm: number | null;
  /** Predicted minus reference volume, cc (null when the prediction has no mask). */
  volumeDiffCc: number | null;
  referenceVolumeCc: number;
  predictionVolumeCc: number | null;
  hausdorffMm: number | null;
  assdMm: number | null;
  status: MetricStatus;
}

export interface Prediction {
  /** 0/1 on the reference's grid. */
  mask?: Uint8Array;
  /** Localiser boxes (LPS, voxel-centre convention); an SPL stack is scored by its enclosing box. */
  boxes?: Box[];
}

export interface EvaluateOptions {
  boxConvention?: BoxConvention;
  /** Surface Dice tolerance, mm (default 2; the output key stays surfaceDice2mm). */
  toleranceMm?: number;
}

export function evaluateStructure(name: string, reference: Uint8Array, prediction: Prediction, g: Geometry, opts: EvaluateOptions = {}): StructureMetrics {
  return inContractOrder(evaluate(name, reference, prediction, g, opts));
}

/** Keys in the CLI contract's order (name, dice, hd95Mm, surfaceDice2mm, boxIou, wallDistanceMm), then the rest. */
function inContractOrder(m: StructureMetrics): StructureMetrics {
  return {
    name: m.name,
    dice: m.dice,
    hd95Mm: m.hd95Mm,
    surfaceDice2mm: m.surfaceDice2mm,
    boxIou: m.boxIou,
    wallDistanceMm: m.wallDistanceMm,
    volumeDiffCc: m.volumeDiffCc,
    referenceVolumeCc: m.referenceVolumeCc,
    predictionVolumeCc: m.predictionVolumeCc,
    hausdorffMm: m.hausdorffMm,
    assdMm: m.assdMm,
    status: m.status,
  };
}

function evaluate(name: string, reference: Uint8Array, prediction: Prediction, g: Geometry, opts: EvaluateOptions = {}): StructureMetrics {
  const n = g.dims[0] * g.dims[1] * g.dims[2];
  if (reference.length !== n) throw new RangeError(`reference mask of ${name} has ${reference.length} voxels, the grid ${n}`);
  if (prediction.mask && prediction.mask.length !== n) {
    throw new RangeError(`predicted mask of ${name} has ${prediction.mask.length} voxels, the grid ${n}`);
  }
  for (const b of prediction.boxes ?? []) {
    // A backend that lost track (NaN from a failed registration) must not score as a far-away box.
    if (![...b.min, ...b.max].every(Number.isFinite)) {
      throw new InputError(`predicted box of ${name} has non-finite coordinates (${JSON.stringify(b)})`, { structure: name });
    }
  }
  const convention = opts.boxConvention ?? 'centres';
  const ccPerVoxel = (g.spacing[0] * g.spacing[1] * g.spacing[2]) / 1000;

  const refBoxIdx = maskIndexBox(reference, g.dims);
  const predMask = prediction.mask;
  const predBoxIdx = predMask ? maskIndexBox(predMask, g.dims) : undefined;

  // Box metrics: stored boxes win over the mask's box (they are what the localiser said).
  const refBox = refBoxIdx ? maskBoxLps(reference, g, convention, refBoxIdx) : undefined;
  let predBox: Box | undefined;
  if (prediction.boxes && prediction.boxes.length > 0) {
    const e = enclosingBox(prediction.boxes)!;
    predBox = convention === 'edges' ? growToVoxelEdges(e, g) : e;
  } else if (predMask && predBoxIdx) {
    predBox = maskBoxLps(predMask, g, convention, predBoxIdx);
  }
  let iou: number | null = null;
  let wall: number | null = null;
  if (refBox && predBox) {
    iou = boxIou(refBox, predBox);
    wall = wallDistanceMm(refBox, predBox);
  } else if (refBox || predBox) {
    iou = 0;
  }

  const refEmpty = !refBoxIdx;
  // With a mask, emptiness is the mask's; a localisation-only prediction is empty without boxes.
  const predEmpty = predMask ? !predBoxIdx : !predBox;
  const status: MetricStatus =
    refEmpty && predEmpty ? 'both-empty' : refEmpty ? 'reference-empty' : predEmpty ? 'prediction-empty' : predMask ? 'ok' : 'boxes-only';

  const base = {
    name,
    boxIou: iou,
    wallDistanceMm: wall,
    status,
  };
  if (!predMask) {
    const refVoxels = refBoxIdx ? countNonZero(reference) : 0;
    return {
      ...base,
      dice: null,
      hd95Mm: null,
      surfaceDice2mm: null,
      volumeDiffCc: null,
      referenceVolumeCc: refVoxels * ccPerVoxel,
      predictionVolumeCc: null,
      hausdorffMm: null,
      assdMm: null,
    };
  }

  const box = unionIndexBox(refBoxIdx, predBoxIdx);
  if (!box) {
    return { ...base, dice: 1, hd95Mm: 0, surfaceDice2mm: 1, volumeDiffCc: 0, referenceVolumeCc: 0, predictionVolumeCc: 0, hausdorffMm: 0, assdMm: 0 };
  }
  const cr = cropMask(reference, g.dims, box, 1);
  const cp = cropMask(predMask, g.dims, box, 1);
  const nr = countNonZero(cr.data);
  const np = countNonZero(cp.data);
  const volumes = { referenceVolumeCc: nr * ccPerVoxel, predictionVolumeCc: np * ccPerVoxel, volumeDiffCc: (np - nr) * ccPerVoxel };
  if (nr === 0 || np === 0) {
    return { ...base, ...volumes, dice: 0, hd95Mm: null, surfaceDice2mm: 0, hausdorffMm: null, assdMm: null };
  }
  const inter = countIntersection(cr.data, cp.data);
  const d = surfaceDistancesOnCrop(cr.data, cp.data, cr.dims, g.spacing);
  return {
    ...base,
    ...volumes,
    dice: (2 * inter) / (nr + np),
    hd95Mm: hd95(d),
    surfaceDice2mm: surfaceDice(d, opts.toleranceMm ?? 2),
    hausdorffMm: hausdorff(d),
    assdMm: assd(d),
  };
}
