/**
 * Volumes from the archive: a DICOM series decoded slice by slice into HU on the geometry stored at
 * import, or a NIfTI series read from its file. Non-uniform DICOM slice positions are interpolated
 * linearly along the slice normal onto the stored uniform grid (dicom/assemble.ts says why).
 */
import type { Volume } from './volume.js';
import { InputError, throwIfAborted } from '../errors.js';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { decodeSliceHu, newScratch } from '../dicom/pixels.js';
import { readNifti } from '../nifti/nifti.js';
import { getInstances, getSeriesGeometry } from '../store/archive.js';
import type { Db } from '../store/db.js';
import { dot, type Geometry, type Vec3 } from './geometry.js';

export interface LoadOptions {
  signal?: AbortSignal;
}

export async function loadVolume(db: Db, seriesUid: string, opts: LoadOptions = {}): Promise<Volume> {
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
 */
export async function loadDicomSeriesVolume(
  slices: { path: string; position: Vec3 }[],
  geometry: Geometry,
  opts: LoadOptions & { seriesUid?: string } = {},
): Promise<Volume> {
  const [nx, ny, nz] = geometry.dims;
  const n = nx * ny;
  const normal: Vec3 = [geometry.direction[2], geometry.direction[5], geometry.direction[8]];
  const d0 = dot(geometry.origin, normal);
  const placed = slices
    .map((s) => ({ ...s, d: dot(s.position, normal) - d0 }))
    .sort((a, b) => a.d - b.d);
  const sk = geometry.spacing[2];
  const data = new Float32Array(n * nz);
  const exact = placed.every((s) => Math.abs(s.d / sk - Math.round(s.d / sk)) < 0.01) && placed.length === nz;
  const layout = { rows: ny, columns: nx };
  const ctx = opts.seriesUid ? { seriesUid: opts.seriesUid } : {};
  // Slices decode one after another: reads and decodes are synchronous (dicom/pixels.ts says why),
  // so the loop yields now and then for cancellation, and one scratch buffer serves every read.
  const scratch = newScratch();
  const each = async (count: number, fn: (i: number) => Promise<void>): Promise<void> => {
    for (let i = 0; i < count; i++) {
      if (i % 8 === 0) await yieldToLoop();
      throwIfAborted(opts.signal, ctx);
      await fn(i);
    }
  };
  if (exact) {
    await each(placed.length, (idx) => {
      const s = placed[idx]!;
      return decodeSliceHu(s.path, layout, data, Math.round(s.d / sk) * n, scratch);
    });
    return { ...geometry, data };
  }
  // Non-uniform: decode every source slice, then interpolate each grid slice from its neighbours.
  const src = placed.map(() => new Float32Array(n));
  await each(placed.length, (idx) => decodeSliceHu(placed[idx]!.path, layout, src[idx]!, 0, scratch));
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
