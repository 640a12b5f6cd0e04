/**
 * Contours of every named label of a label map, one label at a time: a full-body map (TotalSegmentator,
 * 117 labels on 512x512x400) as one mask per label would need gigabytes. One pass collects each
 * label's voxel indices; each label is then painted into a single reused buffer, contoured over its
 * own slice range only, and cleared.
 */
import { maskToContours } from '../contours/mask-to-contours.js';
import type { Geometry, Vec3 } from '../volume/geometry.js';

export interface LabelContours {
  value: number;
  name: string;
  voxels: number;
  rings: Vec3[][];
}

export function labelMapContours(labels: Uint8Array | Uint16Array, names: Map<number, string>, g: Geometry, simplifyMm = 0): LabelContours[] {
  const counts = new Map<number, number>();
  for (let p = 0; p < labels.length; p++) {
    const v = labels[p]!;
    if (v !== 0 && names.has(v)) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const index = new Map<number, { at: number; idx: Uint32Array }>();
  for (const [v, n] of counts) index.set(v, { at: 0, idx: new Uint32Array(n) });
  for (let p = 0; p < labels.length; p++) {
    const e = index.get(labels[p]!);
    if (e) e.idx[e.at++] = p;
  }
  const plane = g.dims[0] * g.dims[1];
  const buf = new Uint8Array(labels.length);
  const out: LabelContours[] = [];
  for (const [value, name] of names) {
    const e = index.get(value);
    if (!e) continue;
    for (const p of e.idx) buf[p] = 1;
    // Indices ascend, so the first and last give the slice range.
    const k0 = Math.floor(e.idx[0]! / plane);
    const k1 = Math.floor(e.idx[e.idx.length - 1]! / plane);
    const rings = maskToContours(buf, g, { simplifyMm, slices: [k0, k1] }).map((c) => c.points);
    for (const p of e.idx) buf[p] = 0;
    out.push({ value, name, voxels: e.idx.length, rings });
  }
  return out;
}
