/**
 * Local refinement of one mapped point by block matching (Ourselin et al., Image Vis Comput 2001):
 * the template block around the point, pulled through the registration, is compared by NCC with
 * query blocks shifted by whole query voxels within a search window; the best shift moves the
 * point. A shift is kept only when it beats the unshifted block, so a flat neighbourhood (no
 * texture to match) leaves the point where the registration put it.
 */
import type { Vec3 } from '../volume/geometry.js';
import { patientToVoxelMatrix, sampleVoxel, voxelToPatientMatrix, type Image } from './image.js';
import { applyMat34, type Mat34 } from './transform.js';

export function blockMatchPoint(query: Image, template: Image, affine: Mat34, p: Vec3, _templatePoint: Vec3, radiusMm: number, searchMm: number): Vec3 {
  const q2v = patientToVoxelMatrix(query);
  const v2q = voxelToPatientMatrix(query);
  const t2v = patientToVoxelMatrix(template);
  const c = applyMat34(q2v, p);
  const r = query.spacing.map((s) => Math.max(1, Math.round(radiusMm / s))) as Vec3;
  const w = query.spacing.map((s) => Math.max(1, Math.round(searchMm / s))) as Vec3;
  // Template values at the block's query positions, through the registration.
  const offs: Vec3[] = [];
  const tv: number[] = [];
  for (let dk = -r[2]; dk <= r[2]; dk++) {
    for (let dj = -r[1]; dj <= r[1]; dj++) {
      for (let di = -r[0]; di <= r[0]; di++) {
        const x = applyMat34(v2q, [c[0] + di, c[1] + dj, c[2] + dk]);
        const tvox = applyMat34(t2v, applyMat34(affine, x));
        offs.push([di, dj, dk]);
        tv.push(sampleVoxel(template, tvox[0], tvox[1], tvox[2], 0));
      }
    }
  }
  const n = tv.length;
  const tm = tv.reduce((a, b) => a + b, 0) / n;
  let tss = 0;
  for (const v of tv) tss += (v - tm) * (v - tm);
  if (tss < 1e-6 * n) return p;
  const qv = new Float64Array(n);
  const score = (ui: number, uj: number, uk: number): number => {
    let s = 0;
    for (let m = 0; m < n; m++) {
      const o = offs[m]!;
      const v = sampleVoxel(query, c[0] + ui + o[0], c[1] + uj + o[1], c[2] + uk + o[2], 0);
      qv[m] = v;
      s += v;
    }
    const qm = s / n;
    let sqq = 0;
    let sqt = 0;
    for (let m = 0; m < n; m++) {
      const a = qv[m]! - qm;
      sqq += a * a;
      sqt += a * (tv[m]! - tm);
    }
    return sqq > 1e-12 ? sqt / Math.sqrt(sqq * tss) : -1;
  };
  let best = score(0, 0, 0);
  let bu: Vec3 = [0, 0, 0];
  for (let uk = -w[2]; uk <= w[2]; uk++) {
    for (let uj = -w[1]; uj <= w[1]; uj++) {
      for (let ui = -w[0]; ui <= w[0]; ui++) {
        if (ui === 0 && uj === 0 && uk === 0) continue;
        const s = score(ui, uj, uk);
        if (s > best) {
          best = s;
          bu = [ui, uj, uk];
        }
      }
    }
  }
  return applyMat34(v2q, [c[0] + bu[0], c[1] + bu[1], c[2] + bu[2]]);
}
