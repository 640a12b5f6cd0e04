/**
 * MedSAM slice preprocessing, as the reference (MedSAM/auto_pre_CT.py `preprocess_ct` at MedLSAM
 * 4144407; parity README quirks M3-M5):
 *
 * - HU clipped to the window, then scaled `(v - min) / (max - min) * 255` by the min and max of the
 *   WHOLE clipped volume (not the slice, not the window bounds);
 * - voxels whose raw value is exactly 0 are then set to 0 (the reference's `image_data_pre[image_data==0] = 0`);
 * - truncated to int32;
 * - each slice resized to 1024x1024 with skimage semantics (resize.ts), truncated to uint8, three
 *   identical channels;
 * - encoder input `(uint8 - pixel_mean) / pixel_std` per channel in float32 (Sam.preprocess).
 */
import { InputError } from '../errors.js';
import type { Volume } from '../volume/volume.js';
import { resizeLikeSkimage } from './resize.js';

export interface SamPreprocessConstants {
  /** HU window [low, high]. */
  windowHu: [number, number];
  /** Encoder image side (SAM: 1024). */
  imageSize: number;
  /** Spline order of the slice resize (MedSAM: 2). */
  resizeOrder: number;
  pixelMean: [number, number, number];
  pixelStd: [number, number, number];
  /** Box padding in encoder pixels (MedSAM: 10). */
  boxPaddingPx: number;
}

export const MEDSAM_CONSTANTS: SamPreprocessConstants = {
  windowHu: [-500, 1000],
  imageSize: 1024,
  resizeOrder: 2,
  pixelMean: [123.675, 116.28, 103.53],
  pixelStd: [58.395, 57.12, 57.375],
  boxPaddingPx: 10,
};

type Scalars = Float32Array | Int16Array | Uint8Array | Uint16Array;

/** Min and max of the clipped volume: the reference scales by these, not by the window bounds. */
export function clippedRange(data: Scalars, window: [number, number]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  const [lo, hi] = window;
  for (let i = 0; i < data.length; i++) {
    let v = data[i]!;
    v = v < lo ? lo : v > hi ? hi : v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) throw new InputError(`the volume is constant inside the HU window [${lo}, ${hi}]; nothing to segment`);
  return { min, max };
}

/** The windowed int32 slice k (rows j, columns i), as the reference's image_data_pre[k]. */
export function windowSlice(
  vol: Volume<Scalars>,
  k: number,
  window: [number, number],
  range: { min: number; max: number },
): Int32Array {
  const [ni, nj] = vol.dims;
  const n = ni * nj;
  const out = new Int32Array(n);
  const off = k * n;
  const [lo, hi] = window;
  const span = range.max - range.min;
  for (let p = 0; p < n; p++) {
    const raw = vol.data[off + p]!;
    if (raw === 0) continue; // raw HU exactly 0 -> 0 (applied after scaling in the reference)
    const v = raw < lo ? lo : raw > hi ? hi : raw;
    // float64 like numpy (int16 input -> true division gives float64), then np.int32 truncation.
    out[p] = Math.trunc(((v - range.min) / span) * 255.0);
  }
  return out;
}

/** The 1024x1024 uint8 image (one channel; the reference repeats it three times). */
export function sliceImage(pre: Int32Array, rows: number, cols: number, c: SamPreprocessConstants): Uint8Array {
  const r = resizeLikeSkimage(pre, rows, cols, c.imageSize, c.imageSize, c.resizeOrder);
  const out = new Uint8Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const v = Math.trunc(r[i]!);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v; // values are already clipped to the slice's range
  }
  return out;
}

/** Encoder input [1,3,S,S]: (uint8 - mean) / std per channel, float32 arithmetic like torch. */
export function encoderInput(img: Uint8Array, c: SamPreprocessConstants): Float32Array {
  const n = img.length;
  const out = new Float32Array(3 * n);
  for (let ch = 0; ch < 3; ch++) {
    const mean = Math.fround(c.pixelMean[ch]!);
    const std = Math.fround(c.pixelStd[ch]!);
    const base = ch * n;
    for (let p = 0; p < n; p++) out[base + p] = Math.fround(Math.fround(img[p]! - mean) / std);
  }
  return out;
}

/** np.around: round half to even. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The box prompt in encoder pixels: the inclusive voxel box (i = column, j = row) scaled by
 * S / n with np.around, then padded (quirk M6; the max corner lands on the top-left of the last
 * voxel's block). Not clipped, as the reference.
 */
export function boxTo1024(
  box: { iMin: number; jMin: number; iMax: number; jMax: number },
  ni: number,
  nj: number,
  c: SamPreprocessConstants,
): [number, number, number, number] {
  const S = c.imageSize;
  const p = c.boxPaddingPx;
  // v * S / n in that order, like the reference's np.around(v*1024/ori_shape[...]).
  return [
    roundHalfEven((box.iMin * S) / ni) - p,
    roundHalfEven((box.jMin * S) / nj) - p,
    roundHalfEven((box.iMax * S) / ni) + p,
    roundHalfEven((box.jMax * S) / nj) + p,
  ];
}
