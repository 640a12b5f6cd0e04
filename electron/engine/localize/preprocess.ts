/**
 * MedLAM preprocessing (DESIGN.md steps 1-4; reference data_process/data_process_func.py
 * `load_and_pre_ct`, `img_multi_thresh_normalized`, `resize_Multi_label_to_given_shape`, `pad`):
 * canonical [S, A, L] orientation, 3 mm cubic B-spline resampling (scipy.ndimage.zoom, order 3),
 * piecewise-linear HU normalisation, zero padding. Also the reference's label resampling (Q5) and
 * the index mappings between the padded 3 mm grid and LPS mm.
 */
import type { Vec3 } from '../volume/geometry.js';
import type { LabelVolume, Volume } from '../volume/volume.js';
import { canonicalMap, canonicalToPatient, toCanonical, type CanonicalMap } from '../volume/reorient.js';
import { patientToVoxel } from '../volume/geometry.js';
import { sourceToCanonical } from '../volume/reorient.js';
import { roundHalfEven, trilinearTorch, zoomCubic, zoomShape, type Shape3 } from '../volume/resample.js';
import type { MedlamConstants } from './constants.js';

export interface Grid3mm {
  /** Source volume geometry (for LPS). */
  source: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction'>;
  map: CanonicalMap;
  /** Per canonical axis: float64(spacing) / target spacing (the reference's zoom_factor). */
  zoom: Vec3;
  /** Padded and unpadded 3 mm shapes, [z, y, x]. */
  shape: Shape3;
  unpadded: Shape3;
  pad: number;
}

export interface Preprocessed extends Grid3mm {
  /** Padded normalised image, C order [z][y][x], float32. */
  data: Float32Array;
}

/** The reference's piecewise normalisation of one value (float64 in, stored as float32 by the caller). */
export function normaliseHu(v: number, th: readonly number[], nv: readonly number[]): number {
  const last = th.length - 1;
  if (v >= th[last]!) return nv[last]!;
  for (let i = 0; i < last; i++) {
    if (v >= th[i]! && v < th[i + 1]!) {
      const slope = (nv[i + 1]! - nv[i]!) / (th[i + 1]! - th[i]!);
      return slope * (v - th[i]!) + nv[i]!;
    }
  }
  return 0; // below the first threshold (and NaN): the reference's zero-initialised output
}

export function gridFor(vol: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction'>, c: MedlamConstants, label = 'volume'): Grid3mm & { inShape: Shape3 } {
  const map = canonicalMap(vol, label);
  const zoom = [0, 1, 2].map((a) => map.spacing[a]! / c.targetSpacingMm[a]!) as Vec3;
  const unpadded = zoomShape(map.shape, zoom);
  const pad = c.padEachSide;
  return { source: vol, map, zoom, unpadded, shape: unpadded.map((n) => n + 2 * pad) as Shape3, pad, inShape: map.shape };
}

/** Steps 1-4 on a CT volume in HU. */
export function preprocess(vol: Volume<Float32Array | Int16Array>, c: MedlamConstants, label = 'volume'): Preprocessed {
  const g = gridFor(vol, c, label);
  const canon = toCanonical(vol, g.map);
  const res = zoomCubic(canon, g.inShape, g.unpadded);
  let min = Infinity;
  for (let i = 0; i < res.length; i++) if (res[i]! < min) min = res[i]!;
  // The reference skips normalisation when the resampled minimum is >= -10 (already normalised input).
  const normalise = min < -10;
  const [u0, u1, u2] = g.unpadded;
  const [, s1, s2] = g.shape;
  const p = g.pad;
  const out = new Float32Array(g.shape[0] * s1 * s2);
  const th = c.normalisationThresholdsHu;
  const nv = c.normalisationValues;
  let q = 0;
  for (let a = 0; a < u0; a++) {
    for (let b = 0; b < u1; b++) {
      const row = ((a + p) * s1 + (b + p)) * s2 + p;
      for (let d = 0; d < u2; d++) {
        const v = res[q++]!;
        out[row + d] = normalise ? normaliseHu(v, th, nv) : v;
      }
    }
  }
  const { inShape: _inShape, ...grid } = g;
  return { ...grid, data: out };
}

/**
 * The reference's label resampling (Q5): one-hot, torch trilinear with scale_factor = zoom
 * (align_corners=False, output floor(n * zoom)), argmax with ties to the lower label, padded. Its
 * grid is offset from the image's, and the reference uses its indices on the image unchanged.
 */
export function resampleLabelsReference(labels: LabelVolume, c: MedlamConstants): { data: Uint8Array; shape: Shape3 } {
  const g = gridFor(labels, c, 'label map');
  const canon = toCanonical(labels, g.map);
  const inShape = g.map.shape;
  const outShape = inShape.map((n, a) => Math.floor(n * g.zoom[a]!)) as Shape3;
  const scales = g.zoom.map((z) => 1 / z) as [number, number, number];
  let maxLabel = 0;
  for (let i = 0; i < canon.length; i++) if (canon[i]! > maxLabel) maxLabel = canon[i]!;
  const n = outShape[0] * outShape[1] * outShape[2];
  const best = new Float32Array(n).fill(-Infinity);
  const arg = new Uint8Array(n);
  const onehot = new Float32Array(canon.length);
  const tmp = new Float32Array(n);
  for (let k = 0; k <= maxLabel; k++) {
    let any = false;
    for (let i = 0; i < canon.length; i++) {
      const v = canon[i] === k ? 1 : 0;
      onehot[i] = v;
      if (v) any = true;
    }
    if (!any && k > 0) continue; // an all-zero class interpolates to 0 everywhere and never wins
    trilinearTorch(onehot, inShape, outShape, scales, tmp);
    for (let i = 0; i < n; i++) {
      if (tmp[i]! > best[i]!) {
        best[i] = tmp[i]!;
        arg[i] = k;
      }
    }
  }
  const p = c.padEachSide;
  const shape = outShape.map((s) => s + 2 * p) as Shape3;
  const out = new Uint8Array(shape[0] * shape[1] * shape[2]);
  let q = 0;
  for (let a = 0; a < outShape[0]; a++) {
    for (let b = 0; b < outShape[1]; b++) {
      const row = ((a + p) * shape[1] + (b + p)) * shape[2] + p;
      for (let d = 0; d < outShape[2]; d++) out[row + d] = arg[q++]!;
    }
  }
  return { data: out, shape };
}

/** LPS mm of a (continuous) padded 3 mm index, by the reference's index scaling (Q16: orig = p / zoom). */
export function gridToPatient(g: Grid3mm, p: Vec3): Vec3 {
  const c: Vec3 = [0, 1, 2].map((a) => (p[a]! - g.pad) * (1 / g.zoom[a]!)) as Vec3;
  return canonicalToPatient(g.source, g.map, c);
}

/** Continuous padded 3 mm index of an LPS point (inverse of gridToPatient). */
export function patientToGrid(g: Grid3mm, lps: Vec3): Vec3 {
  const c = sourceToCanonical(g.map, patientToVoxel(g.source, lps));
  return [0, 1, 2].map((a) => c[a]! * g.zoom[a]! + g.pad) as Vec3;
}

/**
 * The reference's back-transform of a padded 3 mm index to the original grid (Q16, Q17):
 * np.around((p - pad) * (1/zoom)) (half to even), then the orientation; returned as the canonical
 * integer index and its LPS position.
 */
export function gridToOriginal(g: Grid3mm, p: Vec3): { canonical: Vec3; lps: Vec3 } {
  const c = [0, 1, 2].map((a) => roundHalfEven((p[a]! - g.pad) * (1 / g.zoom[a]!))) as Vec3;
  return { canonical: c, lps: canonicalToPatient(g.source, g.map, c) };
}

