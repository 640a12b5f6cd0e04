/**
 * Brings a label map onto a series grid for evaluation: the same grid is used as is; another grid is
 * resampled by nearest neighbour through patient coordinates (target voxel centre -> LPS -> label-map
 * voxel, rounded), so labels are never blended. A label map whose labelled voxels mostly fall outside
 * the series volume is refused: the two are not in one frame (a NIfTI of another scan, or an affine
 * that lost the patient position), and scoring it would report nonsense as a bad segmentation.
 */
import { InputError } from '../errors.js';
import { patientToVoxel, voxelToPatient, type Geometry, type Vec3 } from '../volume/geometry.js';
import type { LabelVolume } from '../volume/volume.js';

/** Grids that index the same voxel centres (within tolMm at the far corner). */
export function sameGrid(a: Geometry, b: Geometry, tolMm = 1e-3): boolean {
  if (a.dims.some((d, i) => d !== b.dims[i])) return false;
  const corners: Vec3[] = [
    [0, 0, 0],
    [a.dims[0] - 1, a.dims[1] - 1, a.dims[2] - 1],
    [a.dims[0] - 1, 0, 0],
    [0, a.dims[1] - 1, 0],
    [0, 0, a.dims[2] - 1],
  ];
  for (const c of corners) {
    const p = voxelToPatient(a, c);
    const q = voxelToPatient(b, c);
    if (Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) > tolMm) return false;
  }
  return true;
}

/** Fraction of the labelled voxels above which a label map counts as lying off the series. */
export const MAX_OUTSIDE_FRACTION = 0.05;

export interface ResampleContext {
  file: string;
  seriesUid?: string;
}

export function labelsOnGrid(src: LabelVolume, target: Geometry, ctx: ResampleContext): Uint8Array | Uint16Array {
  if (sameGrid(src, target)) return src.data;
  checkOverlap(src, target, ctx);
  const [nx, ny, nz] = target.dims;
  const out = src.data instanceof Uint16Array ? new Uint16Array(nx * ny * nz) : new Uint8Array(nx * ny * nz);
  // Source index is affine in the target index: s = s0 + i*di + j*dj + k*dk.
  const s0 = patientToVoxel(src, voxelToPatient(target, [0, 0, 0]));
  const step = (c: Vec3): Vec3 => {
    const p = patientToVoxel(src, voxelToPatient(target, c));
    return [p[0] - s0[0], p[1] - s0[1], p[2] - s0[2]];
  };
  const di = step([1, 0, 0]);
  const dj = step([0, 1, 0]);
  const dk = step([0, 0, 1]);
  const [sx, sy, sz] = src.dims;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let x = s0[0] + j * dj[0] + k * dk[0];
      let y = s0[1] + j * dj[1] + k * dk[1];
      let z = s0[2] + j * dj[2] + k * dk[2];
      const base = nx * (j + ny * k);
      for (let i = 0; i < nx; i++, x += di[0], y += di[1], z += di[2]) {
        const a = Math.round(x);
        const b = Math.round(y);
        const c = Math.round(z);
        if (a < 0 || b < 0 || c < 0 || a >= sx || b >= sy || c >= sz) continue;
        out[base + i] = src.data[a + sx * (b + sy * c)]!;
      }
    }
  }
  return out;
}

function checkOverlap(src: LabelVolume, target: Geometry, ctx: ResampleContext): void {
  const [sx, sy, sz] = src.dims;
  let labelled = 0;
  let outside = 0;
  for (let k = 0; k < sz; k++) {
    for (let j = 0; j < sy; j++) {
      for (let i = 0; i < sx; i++) {
        if (src.data[i + sx * (j + sy * k)] === 0) continue;
        labelled++;
        const t = patientToVoxel(target, voxelToPatient(src, [i, j, k]));
        if (t.some((v, a) => v < -0.5 || v > target.dims[a]! - 0.5)) outside++;
      }
    }
  }
  if (labelled > 0 && outside / labelled > MAX_OUTSIDE_FRACTION) {
    const pct = ((100 * outside) / labelled).toFixed(0);
    throw new InputError(
      `label map ${ctx.file} does not lie on series ${ctx.seriesUid ?? '(target grid)'}: ${pct}% of its labelled voxels fall ` +
        'outside the series volume, so the two are not in one frame of reference (another scan, or an affine without the patient position)',
      { file: ctx.file, ...(ctx.seriesUid ? { seriesUid: ctx.seriesUid } : {}) },
    );
  }
}
