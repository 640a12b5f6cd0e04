/**
 * Volumes from the archive: a DICOM series decoded slice by slice into HU on the geometry stored at
 * import, or a NIfTI series read from its file. Non-uniform DICOM slice positions are interpolated
 * linearly along the slice normal onto the stored uniform grid (dicom/assemble.ts says why).
 */
import { floatVolume, type CtVolume, type Volume } from './volume.js';
import { InputError } from '../errors.js';
import { decodeSlices } from '../dicom/decode-pool.js';
import { readNifti } from '../nifti/nifti.js';
import { getInstances, getSeriesGeometry } from '../store/archive.js';
import type { Db } from '../store/db.js';
import { dot, type Geometry, type Vec3 } from './geometry.js';

export interface LoadOptions {
  signal?: AbortSignal;
  /** Decode threads (dicom/decode-pool.ts); 0 decodes on the calling thread. */
  workers?: number;
}

export async function loadVolume(db: Db, seriesUid: string, opts: LoadOptions = {}): Promise<CtVolume> {
  const g = getSeriesGeometry(db, seriesUid);
  const instances = getInstances(db, seriesUid);
  if (instances.length === 0) throw new InputError(`series ${seriesUid} has no instances`, { seriesUid });
  if (g.source === 'nifti') {
    const file = instances[0]!.path;
    const v = readNifti(file);
    return { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: v.data };
  }
  const geometry: Geometry = { dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction };
  return loadDicomSeriesVolume(
    instances.map((i) => ({ path: i.path, position: i.position })),
    geometry,
    { ...opts, seriesUid },
  );
}

/**
 * Assembles slices (any order) onto `geometry`: each slice's distance along the normal from the
 * origin decides its k; grid positions without a slice are interpolated between the neighbours.
 * Slices decode on worker threads (dicom/decode-pool.ts). The volume is int16 when every slice is
 * integral CT within int16 (dicom/pixels.ts, SliceSamples), which holds exactly the values a
 * float32 volume would; otherwise, and whenever slices are interpolated, it is float32.
 */
export async function loadDicomSeriesVolume(
  slices: { path: string; position: Vec3 }[],
  geometry: Geometry,
  opts: LoadOptions & { seriesUid?: string } = {},
): Promise<CtVolume> {
  const [nx, ny, nz] = geometry.dims;
  const n = nx * ny;
  const normal: Vec3 = [geometry.direction[2], geometry.direction[5], geometry.direction[8]];
  const d0 = dot(geometry.origin, normal);
  const placed = slices
    .map((s) => ({ ...s, d: dot(s.position, normal) - d0 }))
    .sort((a, b) => a.d - b.d);
  const sk = geometry.spacing[2];
  const exact = placed.every((s) => Math.abs(s.d / sk - Math.round(s.d / sk)) < 0.01) && placed.length === nz;
  const layout = { rows: ny, columns: nx };
  const paths = placed.map((s) => s.path);
  const decodeOpts = { ...opts };
  if (exact) {
    let data: Int16Array | Float32Array = new Int16Array(n * nz);
    await decodeSlices(
      paths,
      layout,
      (idx, s) => {
        // A float slice turns the whole volume float (the slices already in convert exactly).
        if (s.kind === 'float32' && data instanceof Int16Array) data = Float32Array.from(data);
        data.set(s.data, Math.round(placed[idx]!.d / sk) * n);
      },
      { ...decodeOpts, recycle: true },
    );
    return { ...geometry, data };
  }
  // Non-uniform: decode every source slice, then interpolate each grid slice from its neighbours.
  const data = new Float32Array(n * nz);
  const src: (Int16Array | Float32Array)[] = new Array(placed.length);
  await decodeSlices(paths, layout, (idx, s) => (src[idx] = s.data), decodeOpts);
  let lo = 0;
  for (let k = 0; k < nz; k++) {
    const z = k * sk;
    while (lo + 1 < placed.length - 1 && placed[lo + 1]!.d <= z) lo++;
    const a = placed[lo]!;
    const b = placed[Math.min(lo + 1, placed.length - 1)]!;
    const t = b.d > a.d ? Math.min(1, Math.max(0, (z - a.d) / (b.d - a.d))) : 0;
    const sa = src[lo]!;
    const sb = src[Math.min(lo + 1, placed.length - 1)]!;
    const out = data.subarray(k * n, (k + 1) * n);
    for (let i = 0; i < n; i++) out[i] = sa[i]! + (sb[i]! - sa[i]!) * t;
  }
  return { ...geometry, data };
}

/** loadVolume in float32, for the algorithms written against float32 (volume.ts, floatVolume). */
export async function loadFloatVolume(db: Db, seriesUid: string, opts: LoadOptions = {}): Promise<Volume> {
  return floatVolume(await loadVolume(db, seriesUid, opts));
}
