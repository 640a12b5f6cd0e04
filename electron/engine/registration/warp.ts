/**
 * Carrying template annotations to the query through a registration (query x -> template
 * A(x + u(x))): masks are pulled (each query voxel samples the template mask, trilinear, so the
 * result is a 0..1 membership that several templates can average), points are pushed (the inverse
 * map, solved by fixed-point iteration x = A^-1(P) - u(x), which converges while u is smooth:
 * |grad u| < 1, which the demons smoothing keeps).
 */
import type { Geometry, Vec3 } from '../volume/geometry.js';
import { patientToVoxelMatrix, sampleVoxel, voxelToPatientMatrix, type Image } from './image.js';
import { fieldAt, type DisplacementField } from './demons.js';
import { applyMat34, invertMat34, type Mat34 } from './transform.js';

/** A crop of the query grid: voxel index ranges [lo, lo + dims). */
export interface GridCrop {
  lo: Vec3;
  dims: Vec3;
}

/** Query-grid membership (0..255) of a template mask, on a crop of the query grid. */
export interface WarpedMask {
  crop: GridCrop;
  prob: Uint8Array;
  /** Local NCC of the warped template CT with the query on the same crop, -1..1 as 0..255 (locally weighted fusion). */
  similarity?: Uint8Array;
  /** The warped template CT (HU) on the same crop (joint label fusion). */
  intensity?: Int16Array;
}

/** Template LPS point -> query LPS point. */
export function mapPointToQuery(p: Vec3, affine: Mat34, field?: DisplacementField): Vec3 {
  const inv = invertMat34(affine);
  const x0 = applyMat34(inv, p);
  if (!field) return x0;
  const p2v = patientToVoxelMatrix(field);
  let x: Vec3 = [...x0];
  for (let it = 0; it < 20; it++) {
    const u = fieldAt(field, x, p2v);
    const nx: Vec3 = [x0[0] - u[0], x0[1] - u[1], x0[2] - u[2]];
    const step = Math.hypot(nx[0] - x[0], nx[1] - x[1], nx[2] - x[2]);
    x = nx;
    if (step < 0.01) break;
  }
  return x;
}

/**
 * The query-grid crop that holds the template mask after the affine map, grown by marginMm (room
 * for the deformable part); undefined when it misses the query grid entirely.
 */
export function cropForTemplateMask(mask: Uint8Array, tg: Geometry, affine: Mat34, qg: Geometry, marginMm: number): GridCrop | undefined {
  const [nx, ny, nz] = tg.dims;
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  let n = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (mask[n] === 0) continue;
        if (i < lo[0]) lo[0] = i;
        if (i > hi[0]) hi[0] = i;
        if (j < lo[1]) lo[1] = j;
        if (j > hi[1]) hi[1] = j;
        if (k < lo[2]) lo[2] = k;
        if (k > hi[2]) hi[2] = k;
      }
    }
  }
  if (lo[0] === Infinity) return undefined;
  const t2p = voxelToPatientMatrix(tg);
  const inv = invertMat34(affine);
  const q2v = patientToVoxelMatrix(qg);
  const qlo: Vec3 = [Infinity, Infinity, Infinity];
  const qhi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const ci of [lo[0], hi[0]]) {
    for (const cj of [lo[1], hi[1]]) {
      for (const ck of [lo[2], hi[2]]) {
        const v = applyMat34(q2v, applyMat34(inv, applyMat34(t2p, [ci, cj, ck])));
        for (let a = 0; a < 3; a++) {
          qlo[a] = Math.min(qlo[a]!, v[a]!);
          qhi[a] = Math.max(qhi[a]!, v[a]!);
        }
      }
    }
  }
  const clo: Vec3 = [0, 0, 0];
  const cdims: Vec3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const m = marginMm / qg.spacing[a]!;
    const l = Math.max(0, Math.floor(qlo[a]! - m));
    const h = Math.min(qg.dims[a]! - 1, Math.ceil(qhi[a]! + m));
    if (h < l) return undefined;
    clo[a] = l;
    cdims[a] = h - l + 1;
  }
  return { lo: clo, dims: cdims };
}

/** Pulls the template mask onto a crop of the query grid: membership 0..255. */
export function warpMask(mask: Uint8Array, tg: Geometry, affine: Mat34, field: DisplacementField | undefined, qg: Geometry, crop: GridCrop): WarpedMask {
  const fm = new Float32Array(mask.length);
  for (let n = 0; n < mask.length; n++) fm[n] = mask[n] ? 1 : 0;
  const pulled = warpImage({ ...tg, data: fm }, affine, field, qg, crop, 0);
  const prob = new Uint8Array(pulled.length);
  for (let n = 0; n < prob.length; n++) prob[n] = Math.round(255 * pulled[n]!);
  return { crop, prob };
}

/** Pulls a template image onto a crop of the query grid (trilinear; `outside` beyond its edge). */
export function warpImage(img: Image, affine: Mat34, field: DisplacementField | undefined, qg: Geometry, crop: GridCrop, outside: number): Float32Array {
  const q2p = voxelToPatientMatrix(qg);
  const p2t = patientToVoxelMatrix(img);
  const f2v = field ? patientToVoxelMatrix(field) : undefined;
  const fx = field ? { ...field, data: field.ux } : undefined;
  const fy = field ? { ...field, data: field.uy } : undefined;
  const fz = field ? { ...field, data: field.uz } : undefined;
  const out = new Float32Array(crop.dims[0] * crop.dims[1] * crop.dims[2]);
  let idx = 0;
  for (let k = 0; k < crop.dims[2]; k++) {
    for (let j = 0; j < crop.dims[1]; j++) {
      for (let i = 0; i < crop.dims[0]; i++, idx++) {
        const p = applyMat34(q2p, [crop.lo[0] + i, crop.lo[1] + j, crop.lo[2] + k]);
        if (f2v && fx && fy && fz) {
          const v = applyMat34(f2v, p);
          const x = Math.min(Math.max(v[0], 0), fx.dims[0] - 1);
          const y = Math.min(Math.max(v[1], 0), fx.dims[1] - 1);
          const z = Math.min(Math.max(v[2], 0), fx.dims[2] - 1);
          p[0] += sampleVoxel(fx, x, y, z, 0);
          p[1] += sampleVoxel(fy, x, y, z, 0);
          p[2] += sampleVoxel(fz, x, y, z, 0);
        }
        const t = applyMat34(p2t, applyMat34(affine, p));
        out[idx] = sampleVoxel(img, t[0], t[1], t[2], outside);
      }
    }
  }
  return out;
}
