/**
 * Image primitives for registration: intensity clipping, separable Gaussian smoothing, resampling
 * to a coarser grid (pyramids), trilinear sampling with its gradient, all on the engine's Volume
 * type (dims [i, j, k], spacing, origin, direction; i fastest). Positions are LPS mm throughout.
 */
import { voxelToPatientAffine, type Geometry, type Mat3, type Vec3 } from '../volume/geometry.js';
import type { Volume } from '../volume/volume.js';

export type Image = Volume<Float32Array>;

/** Clip to [lo, hi] and rescale to [0, 1], so that metrics and demons forces are unit-free. */
export function clipNormalize(v: Volume<Float32Array | Int16Array | Uint16Array | Uint8Array>, lo: number, hi: number): Image {
  const out = new Float32Array(v.data.length);
  const s = 1 / (hi - lo);
  for (let n = 0; n < out.length; n++) {
    const x = v.data[n] as number;
    out[n] = x <= lo ? 0 : x >= hi ? 1 : (x - lo) * s;
  }
  return { ...geometryOf(v), data: out };
}

export function geometryOf(g: Geometry): Geometry {
  return { dims: [...g.dims], spacing: [...g.spacing], origin: [...g.origin], direction: [...g.direction] as Mat3 };
}

function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let x = -r; x <= r; x++) {
    const w = Math.exp((-x * x) / (2 * sigma * sigma));
    k[x + r] = w;
    sum += w;
  }
  for (let n = 0; n < k.length; n++) k[n] = (k[n] as number) / sum;
  return k;
}

/**
 * Separable Gaussian smoothing in place, sigma in voxels per axis (0 skips that axis). Borders
 * replicate the edge voxel (ITK's zero-flux Neumann condition), which keeps demons fields from
 * shrinking toward the image edge.
 */
export function smoothInPlace(data: Float32Array, dims: Vec3, sigma: Vec3): void {
  smoothAt(data, dims, sigma, [undefined, undefined, undefined]);
}

/**
 * smoothInPlace, computed only where it will be read: `at[a]` lists the indices along axis a whose
 * smoothed values are wanted (undefined: all). Axes are smoothed in the order 0, 1, 2, and axis a
 * needs the earlier axes' results along its whole lines, so each stage runs only on the lines the
 * later stages read and writes only the wanted indices; those voxels get exactly the values of a
 * full smoothing (the same sums in the same order), the others are left part-smoothed.
 */
function smoothAt(data: Float32Array, dims: Vec3, sigma: Vec3, at: [Int32Array | undefined, Int32Array | undefined, Int32Array | undefined]): void {
  const strides: Vec3 = [1, dims[0], dims[0] * dims[1]];
  const line = new Float32Array(Math.max(...dims));
  let src: Float32Array | undefined;
  const all = dims.map((n) => Int32Array.from({ length: n }, (_, i) => i));
  // Wanting most of an axis costs more in bookkeeping than it saves: take all of it (values computed
  // beyond the wanted ones are exact too).
  at = at.map((w, a) => (w && w.length < 0.7 * dims[a]! ? w : undefined)) as typeof at;
  // Along an axis that is already smoothed, or never will be, later stages read only the wanted
  // indices; along one still to be smoothed, its stage needs whole lines.
  const smoothed = [false, false, false];
  const final = (a: number): boolean => smoothed[a]! || !((sigma[a] as number) > 0.05);
  for (let axis = 0; axis < 3; axis++) {
    const s = sigma[axis] as number;
    if (!(s > 0.05)) continue;
    const k = gaussianKernel(s);
    const n = dims[axis] as number;
    const stride = strides[axis] as number;
    // The two other axes enumerate the lines; an axis already smoothed is only needed at its wanted indices.
    const a1 = axis === 0 ? 1 : 0;
    const b1 = axis === 2 ? 1 : 2;
    const as = (final(a1) ? at[a1] : undefined) ?? all[a1]!;
    const bs = (final(b1) ? at[b1] : undefined) ?? all[b1]!;
    const outs = at[axis] ?? all[axis]!;
    const sa = strides[a1] as number;
    const sb = strides[b1] as number;
    if (axis === 0) smoothLines(data, k, n, stride, as, sa, bs, sb, outs, line);
    else smoothRows(data, k, n, stride, as, bs, sb, outs, (src ??= new Float32Array(data.length)));
    smoothed[axis] = true;
  }
}

/**
 * One axis of smoothAt along contiguous lines (axis 0): each line is copied, then its wanted voxels
 * are summed from the copy. Interior voxels need no border clamp; the sum runs in the same order.
 */
function smoothLines(data: Float32Array, k: Float32Array, n: number, stride: number, as: Int32Array, sa: number, bs: Int32Array, sb: number, outs: Int32Array, line: Float32Array): void {
  const r = (k.length - 1) >> 1;
  const inLo = r;
  const inHi = n - 1 - r;
  for (let bi = 0; bi < bs.length; bi++) {
    for (let ai = 0; ai < as.length; ai++) {
      const base = as[ai]! * sa + bs[bi]! * sb;
      for (let x = 0; x < n; x++) line[x] = data[base + x * stride] as number;
      for (let oi = 0; oi < outs.length; oi++) {
        const x = outs[oi]!;
        let acc = 0;
        if (x >= inLo && x <= inHi) {
          for (let t = 0, xx = x - r; t < k.length; t++, xx++) acc += (k[t] as number) * (line[xx] as number);
        } else {
          for (let t = -r; t <= r; t++) {
            let xx = x + t;
            if (xx < 0) xx = 0;
            else if (xx >= n) xx = n - 1;
            acc += (k[t + r] as number) * (line[xx] as number);
          }
        }
        data[base + x * stride] = acc;
      }
    }
  }
}

/**
 * One axis of smoothAt across the grid (axes 1 and 2): a row of axis-0 voxels is summed at once,
 * tap by tap, from a copy of the image, so memory is read in order rather than one voxel per
 * plane. Each voxel still adds its taps in the same order, in double precision, so the values are
 * those of smoothLines.
 */
function smoothRows(data: Float32Array, k: Float32Array, n: number, stride: number, is: Int32Array, bs: Int32Array, sb: number, outs: Int32Array, src: Float32Array): void {
  const r = (k.length - 1) >> 1;
  src.set(data);
  const acc = new Float64Array(is.length);
  const dense = is.length > 0 && is[is.length - 1]! - is[0]! === is.length - 1;
  const i0 = is[0] ?? 0;
  for (let bi = 0; bi < bs.length; bi++) {
    const base = bs[bi]! * sb;
    for (let oi = 0; oi < outs.length; oi++) {
      const x = outs[oi]!;
      acc.fill(0);
      for (let t = 0; t < k.length; t++) {
        let xx = x - r + t;
        if (xx < 0) xx = 0;
        else if (xx >= n) xx = n - 1;
        const kt = k[t] as number;
        const row = base + xx * stride;
        if (dense) for (let a = 0, q = row + i0; a < acc.length; a++, q++) acc[a] = (acc[a] as number) + kt * (src[q] as number);
        else for (let a = 0; a < acc.length; a++) acc[a] = (acc[a] as number) + kt * (src[row + is[a]!] as number);
      }
      const row = base + x * stride;
      for (let a = 0; a < acc.length; a++) data[row + is[a]!] = acc[a] as number;
    }
  }
}

/**
 * The same field of view on a coarser grid: per axis the spacing becomes max(spacing, target),
 * the direction is kept and the grid stays centred on the original extent. Anti-aliased by a
 * Gaussian of sigma 0.5 * factor voxels (the usual pyramid choice, e.g. ITK's
 * MultiResolutionPyramidImageFilter uses variance (factor / 2)^2). The Gaussian is evaluated only at
 * the voxels the trilinear resampling reads (smoothAt): the values are those of smoothing the whole
 * image, at a fraction of the cost.
 */
export function downsample(img: Image, target: number): Image {
  const factors = img.spacing.map((s) => Math.max(1, target / s)) as Vec3;
  if (factors.every((f) => f < 1.01)) return { ...geometryOf(img), data: img.data };
  const dims = img.dims.map((d, a) => Math.max(2, Math.round((d * img.spacing[a]!) / (img.spacing[a]! * factors[a]!)))) as Vec3;
  const spacing = img.dims.map((d, a) => (d * img.spacing[a]!) / dims[a]!) as Vec3;
  // Keep the physical extent: first new voxel centre sits half a new voxel inside the old extent.
  const shiftVox = [0, 1, 2].map((a) => (spacing[a]! / img.spacing[a]! - 1) / 2) as Vec3;
  const ratio = [0, 1, 2].map((a) => spacing[a]! / img.spacing[a]!) as Vec3;
  // Per axis, the source indices sampleVoxel reads for the new grid (the cell's two corners).
  const read = [0, 1, 2].map((a) => {
    const n = img.dims[a]!;
    const used = new Uint8Array(n);
    for (let o = 0; o < dims[a]!; o++) {
      const x = shiftVox[a]! + o * ratio[a]!;
      if (x < 0 || x > n - 1) continue;
      const i = Math.min(Math.max(Math.floor(x), 0), n - 2);
      used[i] = 1;
      used[i + 1] = 1;
    }
    return Int32Array.from(Array.from(used.keys()).filter((i) => used[i] === 1));
  }) as [Int32Array, Int32Array, Int32Array];
  const smoothed = new Float32Array(img.data);
  smoothAt(smoothed, img.dims, factors.map((f) => (f > 1.01 ? 0.5 * f : 0)) as Vec3, read);
  const d = img.direction;
  const origin: Vec3 = [0, 1, 2].map((r) =>
    img.origin[r]! + d[r * 3]! * shiftVox[0] * img.spacing[0] + d[r * 3 + 1]! * shiftVox[1] * img.spacing[1] + d[r * 3 + 2]! * shiftVox[2] * img.spacing[2],
  ) as Vec3;
  const out = new Float32Array(dims[0] * dims[1] * dims[2]);
  const src = { ...geometryOf(img), data: smoothed };
  let n = 0;
  for (let k = 0; k < dims[2]; k++) {
    const z = shiftVox[2] + k * ratio[2];
    for (let j = 0; j < dims[1]; j++) {
      const y = shiftVox[1] + j * ratio[1];
      for (let i = 0; i < dims[0]; i++) out[n++] = sampleVoxel(src, shiftVox[0] + i * ratio[0], y, z, 0);
    }
  }
  return { dims, spacing, origin, direction: [...img.direction] as Mat3, data: out };
}

/** Trilinear interpolation at continuous voxel index (x, y, z); `outside` beyond the grid. */
export function sampleVoxel(img: Image, x: number, y: number, z: number, outside: number): number {
  const [nx, ny, nz] = img.dims;
  if (x < 0 || y < 0 || z < 0 || x > nx - 1 || y > ny - 1 || z > nz - 1) return outside;
  let i = Math.floor(x);
  let j = Math.floor(y);
  let k = Math.floor(z);
  if (i >= nx - 1) i = nx - 2;
  if (j >= ny - 1) j = ny - 2;
  if (k >= nz - 1) k = nz - 2;
  if (i < 0) i = 0;
  if (j < 0) j = 0;
  if (k < 0) k = 0;
  const fx = x - i;
  const fy = y - j;
  const fz = z - k;
  const d = img.data;
  const sy = nx;
  const sz = nx * ny;
  const n = i + sy * j + sz * k;
  const c00 = (d[n] as number) * (1 - fx) + (d[n + 1] as number) * fx;
  const c10 = (d[n + sy] as number) * (1 - fx) + (d[n + sy + 1] as number) * fx;
  const c01 = (d[n + sz] as number) * (1 - fx) + (d[n + sz + 1] as number) * fx;
  const c11 = (d[n + sz + sy] as number) * (1 - fx) + (d[n + sz + sy + 1] as number) * fx;
  const c0 = c00 * (1 - fy) + c10 * fy;
  const c1 = c01 * (1 - fy) + c11 * fy;
  return c0 * (1 - fz) + c1 * fz;
}

/** Central-difference gradient per voxel axis (one-sided at borders), in intensity per voxel. */
export function voxelGradient(img: Image): [Float32Array, Float32Array, Float32Array] {
  const [nx, ny, nz] = img.dims;
  const d = img.data;
  const gx = new Float32Array(d.length);
  const gy = new Float32Array(d.length);
  const gz = new Float32Array(d.length);
  const sz = nx * ny;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const n = i + nx * j + sz * k;
        const xm = i > 0 ? n - 1 : n;
        const xp = i < nx - 1 ? n + 1 : n;
        const ym = j > 0 ? n - nx : n;
        const yp = j < ny - 1 ? n + nx : n;
        const zm = k > 0 ? n - sz : n;
        const zp = k < nz - 1 ? n + sz : n;
        gx[n] = ((d[xp] as number) - (d[xm] as number)) / Math.max(1, (xp - xm));
        gy[n] = ((d[yp] as number) - (d[ym] as number)) / Math.max(1, (yp - ym) / nx);
        gz[n] = ((d[zp] as number) - (d[zm] as number)) / Math.max(1, (zp - zm) / sz);
      }
    }
  }
  return [gx, gy, gz];
}

/**
 * The 3x4 matrix (row-major) mapping LPS mm to continuous voxel index for a grid: index =
 * diag(1/spacing) D^T (p - origin). Precomputed so that inner loops do 9 multiply-adds.
 */
export function patientToVoxelMatrix(g: Geometry): number[] {
  const d = g.direction;
  const s = g.spacing;
  const m: number[] = [];
  for (let r = 0; r < 3; r++) {
    const a = d[r]! / s[r]!;
    const b = d[3 + r]! / s[r]!;
    const c = d[6 + r]! / s[r]!;
    m.push(a, b, c, -(a * g.origin[0] + b * g.origin[1] + c * g.origin[2]));
  }
  return m;
}

/** The 3x4 matrix mapping continuous voxel index to LPS mm (the top rows of voxelToPatientAffine). */
export function voxelToPatientMatrix(g: Geometry): number[] {
  return voxelToPatientAffine(g).slice(0, 12);
}

/** Intensity-weighted centre (LPS mm) of voxels above a threshold: a robust starting translation. */
export function centreOfMass(img: Image, threshold: number): Vec3 {
  const [nx, ny, nz] = img.dims;
  let sx = 0;
  let sy = 0;
  let sz = 0;
  let w = 0;
  let n = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if ((img.data[n] as number) > threshold) {
          sx += i;
          sy += j;
          sz += k;
          w++;
        }
      }
    }
  }
  if (w === 0) return applyAffine(voxelToPatientMatrix(img), [(nx - 1) / 2, (ny - 1) / 2, (nz - 1) / 2]);
  return applyAffine(voxelToPatientMatrix(img), [sx / w, sy / w, sz / w]);
}

/** Applies a 3x4 row-major matrix to a point. */
export function applyAffine(m: ArrayLike<number>, p: Vec3): Vec3 {
  return [
    m[0]! * p[0] + m[1]! * p[1] + m[2]! * p[2] + m[3]!,
    m[4]! * p[0] + m[5]! * p[1] + m[6]! * p[2] + m[7]!,
    m[8]! * p[0] + m[9]! * p[1] + m[10]! * p[2] + m[11]!,
  ];
}

/**
 * The voxel-space bounds (min and max per axis, not rounded) of the eight corners of the LPS box
 * `min`..`max` mapped through `p2v` (patientToVoxelMatrix): the voxels that can lie in the box.
 */
export function voxelBox(p2v: ArrayLike<number>, box: { min: Vec3; max: Vec3 }): { lo: number[]; hi: number[] } {
  const lo: number[] = [Infinity, Infinity, Infinity];
  const hi: number[] = [-Infinity, -Infinity, -Infinity];
  for (const x of [box.min[0], box.max[0]]) {
    for (const y of [box.min[1], box.max[1]]) {
      for (const z of [box.min[2], box.max[2]]) {
        const v = applyAffine(p2v, [x, y, z]);
        for (let a = 0; a < 3; a++) {
          lo[a] = Math.min(lo[a]!, v[a]!);
          hi[a] = Math.max(hi[a]!, v[a]!);
        }
      }
    }
  }
  return { lo, hi };
}

/** A sub-grid [lo, lo + dims) of an image, with its own origin (same spacing and direction). */
export function cropImage(img: Image, lo: Vec3, dims: Vec3): Image {
  const out = new Float32Array(dims[0] * dims[1] * dims[2]);
  const [nx, ny] = img.dims;
  let n = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      const row = lo[0] + nx * (lo[1] + j + ny * (lo[2] + k));
      out.set(img.data.subarray(row, row + dims[0]), n);
      n += dims[0];
    }
  }
  const origin = applyAffine(voxelToPatientMatrix(img), lo);
  return { dims: [...dims], spacing: [...img.spacing], origin, direction: [...img.direction] as Mat3, data: out };
}

/**
 * Lazily built, memoised pyramid levels of one image (and their voxel gradients): a template job
 * registers one image pair globally, then once per structure locally, then deformably, and every
 * one of those asks for the same coarse copies. Each level is exactly downsample(img, spacing).
 */
export class Pyramid {
  private readonly levels = new Map<number, Image>();
  private readonly grads = new Map<number, [Float32Array, Float32Array, Float32Array]>();
  constructor(readonly image: Image) {}
  level(spacing: number): Image {
    let l = this.levels.get(spacing);
    if (!l) {
      l = downsample(this.image, spacing);
      this.levels.set(spacing, l);
    }
    return l;
  }
  gradient(spacing: number): [Float32Array, Float32Array, Float32Array] {
    let g = this.grads.get(spacing);
    if (!g) {
      g = voxelGradient(this.level(spacing));
      this.grads.set(spacing, g);
    }
    return g;
  }
}
