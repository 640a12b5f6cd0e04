/**
 * Local normalized cross-correlation between two images on the same grid, with a Gaussian window:
 * the per-voxel similarity that locally weighted multi-atlas fusion uses to trust, at each voxel,
 * the templates whose warped CT looks most like the query there (Artaechevarria et al., IEEE TMI
 * 2009; Iglesias & Sabuncu, Med Image Anal 2015, section 4.2; platipy's "local" weighted fusion).
 * Moments are Gaussian-smoothed products: lncc = cov(a, b) / sqrt(var(a) var(b) + eps).
 */
import type { Vec3 } from '../volume/geometry.js';
import { smoothInPlace } from './image.js';

export function localNcc(a: Float32Array, b: Float32Array, dims: Vec3, sigmaVoxels: Vec3): Float32Array {
  const n = a.length;
  const ma = Float32Array.from(a);
  const mb = Float32Array.from(b);
  const aa = new Float32Array(n);
  const bb = new Float32Array(n);
  const ab = new Float32Array(n);
  for (let q = 0; q < n; q++) {
    const x = a[q]!;
    const y = b[q]!;
    aa[q] = x * x;
    bb[q] = y * y;
    ab[q] = x * y;
  }
  for (const f of [ma, mb, aa, bb, ab]) smoothInPlace(f, dims, sigmaVoxels);
  const out = new Float32Array(n);
  // eps: a flat window (air, the inside of bone at the clip) has no structure to agree on: lncc 0.
  const eps = 1e-4;
  for (let q = 0; q < n; q++) {
    const va = Math.max(0, aa[q]! - ma[q]! * ma[q]!);
    const vb = Math.max(0, bb[q]! - mb[q]! * mb[q]!);
    const cov = ab[q]! - ma[q]! * mb[q]!;
    out[q] = cov / Math.sqrt(va * vb + eps * eps);
  }
  return out;
}
