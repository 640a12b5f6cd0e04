/**
 * Reads a BINARY DICOM Segmentation back onto a series grid: each frame is placed by its plane
 * position (PlanePositionSequence, per frame or shared) projected on the grid's slice normal, and
 * given to the segment its SegmentIdentificationSequence names. A SEG whose planes are not the
 * grid's (another orientation, in-plane offset, another pixel size) is refused with the reason: it
 * would need resampling, which is not what a round trip should need.
 */
import { InputError, UnsupportedError } from '../errors.js';
import { readPart10, type Naturalized } from '../rtstruct/dcmjs.js';
import { column, dot, type Geometry, type Vec3 } from '../volume/geometry.js';
import { SEGMENTATION_STORAGE } from './build.js';

export interface ReadSegment {
  number: number;
  label: string;
  mask: Uint8Array;
}

export interface ReadSeg {
  sopInstanceUid: string;
  frameOfReferenceUid: string;
  referencedSeriesUid: string | undefined;
  segments: ReadSegment[];
}

const first = (v: unknown): Naturalized | undefined => (Array.isArray(v) ? (v[0] as Naturalized | undefined) : (v as Naturalized | undefined));
const nums = (v: unknown): number[] => (Array.isArray(v) ? v : [v]).map(Number);

export function readSeg(file: string, g: Geometry): ReadSeg {
  const { dataset: ds } = readPart10(file);
  if (ds.SOPClassUID !== SEGMENTATION_STORAGE) throw new InputError(`${file} is not a DICOM Segmentation (SOP Class ${String(ds.SOPClassUID)})`, { file });
  if (ds.SegmentationType !== 'BINARY' || Number(ds.BitsAllocated) !== 1) throw new UnsupportedError(`${file}: only BINARY segmentations are read (this one is ${String(ds.SegmentationType)})`, { file });
  const [nx, ny, nz] = g.dims;
  if (Number(ds.Rows) !== ny || Number(ds.Columns) !== nx) throw new UnsupportedError(`${file}: frames are ${String(ds.Columns)}x${String(ds.Rows)}, the series grid ${nx}x${ny}`, { file });
  const shared = first(ds.SharedFunctionalGroupsSequence) ?? {};
  const perFrame = (ds.PerFrameFunctionalGroupsSequence as Naturalized[] | undefined) ?? [];
  const frames = Number(ds.NumberOfFrames ?? 1);
  if (perFrame.length !== frames) throw new InputError(`${file}: ${perFrame.length} per-frame functional groups for ${frames} frames`, { file });
  const pixelItem = (ds.PixelData as ArrayBuffer[] | undefined)?.[0];
  if (!pixelItem) throw new InputError(`${file} has no pixel data`, { file });
  const pixels = new Uint8Array(pixelItem);
  const perSlice = nx * ny;
  if (pixels.length * 8 < frames * perSlice) throw new InputError(`${file}: pixel data holds ${pixels.length} bytes, ${frames} frames need ${Math.ceil((frames * perSlice) / 8)}`, { file });

  const u = column(g.direction, 0);
  const v = column(g.direction, 1);
  const n = column(g.direction, 2);
  const group = (i: number, name: string): Naturalized | undefined => first(perFrame[i]?.[name]) ?? first(shared[name]);
  const iop = nums(group(0, 'PlaneOrientationSequence')?.ImageOrientationPatient);
  if (iop.length !== 6 || [...u, ...v].some((x, i) => Math.abs(x - iop[i]!) > 1e-4)) throw new UnsupportedError(`${file}: image orientation ${iop.join('\\')} is not the series'`, { file });

  const segments = new Map<number, ReadSegment>();
  for (const s of (ds.SegmentSequence as Naturalized[] | undefined) ?? []) {
    segments.set(Number(s.SegmentNumber), { number: Number(s.SegmentNumber), label: String(s.SegmentLabel ?? ''), mask: new Uint8Array(perSlice * nz) });
  }
  for (let f = 0; f < frames; f++) {
    const segNo = Number(group(f, 'SegmentIdentificationSequence')?.ReferencedSegmentNumber);
    const seg = segments.get(segNo);
    if (!seg) throw new InputError(`${file}: frame ${f + 1} names segment ${segNo}, which the SegmentSequence does not define`, { file });
    const pos = nums(group(f, 'PlanePositionSequence')?.ImagePositionPatient) as Vec3;
    const d: Vec3 = [pos[0] - g.origin[0], pos[1] - g.origin[1], pos[2] - g.origin[2]];
    const kf = dot(d, n) / g.spacing[2];
    const k = Math.round(kf);
    if (Math.abs(kf - k) > 0.01 || k < 0 || k >= nz || Math.abs(dot(d, u)) > 0.01 * g.spacing[0] || Math.abs(dot(d, v)) > 0.01 * g.spacing[1]) {
      throw new UnsupportedError(`${file}: frame ${f + 1} at ${pos.join('\\')} is not a slice of the series grid`, { file });
    }
    const out = seg.mask.subarray(k * perSlice, (k + 1) * perSlice);
    const base = f * perSlice;
    for (let p = 0; p < perSlice; p++) if ((pixels[(base + p) >> 3]! >> ((base + p) & 7)) & 1) out[p] = 1;
  }
  const ref = first(ds.ReferencedSeriesSequence);
  return {
    sopInstanceUid: String(ds.SOPInstanceUID),
    frameOfReferenceUid: String(ds.FrameOfReferenceUID ?? ''),
    referencedSeriesUid: ref ? String(ref.SeriesInstanceUID) : undefined,
    segments: [...segments.values()].sort((a, b) => a.number - b.number),
  };
}
