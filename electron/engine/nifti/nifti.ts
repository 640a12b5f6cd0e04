/**
 * NIfTI-1 volumes and label maps (.nii, .nii.gz) in and out. NIfTI world coordinates are RAS+
 * (x grows toward the subject's Right, y Anterior, z Superior); DICOM patient coordinates are LPS+
 * (PS3.3 C.7.6.2.1.1), so LPS = diag(-1, -1, 1) * RAS.
 *
 * Which transform: the sform when sform_code > 0, else the qform when qform_code > 0, else pixdim
 * scaling (nifti1.h "METHOD 3 / 2 / 1"; nibabel's get_best_affine makes the same choice).
 * Reading uses nifti-reader-js for the header and gzip; voxels are converted to the Volume types.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic.js';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { InputError } from '../errors.js';
import type { Geometry, Mat3, Vec3 } from '../volume/geometry.js';
import type { LabelVolume, Volume } from '../volume/volume.js';

export interface NiftiInfo {
  datatypeCode: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  /** 4x4 row-major voxel -> RAS mm as stored (the chosen form). */
  affineRas: number[];
}

interface Raw {
  header: nifti.NIFTI1 | nifti.NIFTI2;
  image: ArrayBuffer;
  bytes: Uint8Array;
}

function readRaw(file: string): Raw {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (cause) {
    throw new InputError(`cannot read NIfTI file ${file}: ${(cause as Error).message}`, { file }, { cause });
  }
  let bytes: Uint8Array = buf;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      bytes = gunzipSync(buf);
    } catch (cause) {
      throw new InputError(`NIfTI file ${file} is not valid gzip: ${(cause as Error).message}`, { file }, { cause });
    }
  }
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  if (!nifti.isNIFTI(ab)) throw new InputError(`${file} is not a NIfTI-1/2 file (bad magic)`, { file });
  // nifti-reader-js throws plain Errors for headers that pass isNIFTI but not its own checks.
  let header: ReturnType<typeof nifti.readHeader>;
  let image: ArrayBuffer;
  try {
    header = nifti.readHeader(ab);
    if (!header) throw new Error('no header');
    image = nifti.readImage(header, ab);
  } catch (cause) {
    throw new InputError(`cannot parse the NIfTI header of ${file}: ${(cause as Error).message}`, { file }, { cause });
  }
  return { header, image, bytes: new Uint8Array(ab) };
}

function chosenAffine(h: nifti.NIFTI1 | nifti.NIFTI2, bytes: Uint8Array, file: string): number[] {
  const little = h.littleEndian;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (h.sform_code > 0) {
    // NIfTI-1 srow at byte 280 (float32); NIfTI-2 at byte 400 (float64).
    const isN2 = h instanceof nifti.NIFTI2;
    const out: number[] = [];
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 4; c++) {
        out.push(isN2 ? view.getFloat64(400 + (r * 4 + c) * 8, little) : view.getFloat32(280 + (r * 4 + c) * 4, little));
      }
    }
    return [...out, 0, 0, 0, 1];
  }
  if (h.qform_code > 0) {
    // nifti-reader-js computes the qform affine (METHOD 2) when qform_code > sform_code, which holds here.
    return [...h.affine.slice(0, 3).flat(), 0, 0, 0, 1];
  }
  const p = h.pixDims;
  if (!(p[1]! > 0 && p[2]! > 0 && p[3]! > 0)) throw new InputError(`NIfTI ${file} has no transform and no pixel sizes`, { file });
  return [p[1]!, 0, 0, 0, 0, p[2]!, 0, 0, 0, 0, p[3]!, 0, 0, 0, 0, 1];
}

/** Voxel->RAS affine (4x4 row-major) to a Geometry in LPS. */
export function geometryFromRasAffine(affine: number[], dims: Vec3, file = ''): Geometry {
  const a = affine;
  const cols: Vec3[] = [0, 1, 2].map((c) => [-a[c]!, -a[4 + c]!, a[8 + c]!] as Vec3);
  const spacing = cols.map((v) => Math.hypot(v[0], v[1], v[2])) as Vec3;
  if (spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new InputError(`NIfTI ${file} has a degenerate transform (zero or invalid voxel size)`, { file });
  }
  const u = cols.map((v, i) => v.map((x) => x / spacing[i]!) as Vec3);
  const direction: Mat3 = [
    u[0]![0], u[1]![0], u[2]![0],
    u[0]![1], u[1]![1], u[2]![1],
    u[0]![2], u[1]![2], u[2]![2],
  ];
  return { dims, spacing, origin: [-a[3]!, -a[7]!, a[11]!], direction };
}

/** Geometry (LPS) to the voxel->RAS affine NIfTI stores. */
export function rasAffineFromGeometry(g: Geometry): number[] {
  const d = g.direction;
  const s = g.spacing;
  const lps = [
    [d[0] * s[0], d[1] * s[1], d[2] * s[2], g.origin[0]],
    [d[3] * s[0], d[4] * s[1], d[5] * s[2], g.origin[1]],
    [d[6] * s[0], d[7] * s[1], d[8] * s[2], g.origin[2]],
  ];
  return [...lps[0]!.map((x) => -x), ...lps[1]!.map((x) => -x), ...lps[2]!, 0, 0, 0, 1];
}

function dimsOf(h: nifti.NIFTI1 | nifti.NIFTI2, file: string): Vec3 {
  const n = h.dims[0]!;
  if (n < 2 || n > 4 || (n === 4 && (h.dims[4] ?? 1) > 1)) {
    throw new InputError(`NIfTI ${file} has ${n} dimensions (${h.dims.slice(1, n + 1).join('x')}); only 3D volumes are supported`, { file });
  }
  const dims: Vec3 = [h.dims[1]!, h.dims[2]!, n >= 3 ? h.dims[3]! : 1];
  // A header that lies (0 or negative sizes) must not reach an allocation (nifti1.h: dim[i] >= 1).
  if (!dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new InputError(`NIfTI ${file} declares an invalid size ${dims.join('x')} (every dimension must be a positive integer)`, { file });
  }
  return dims;
}

function typedView(h: nifti.NIFTI1 | nifti.NIFTI2, image: ArrayBuffer, file: string): ArrayLike<number> {
  const T = nifti.NIFTI1;
  const le = h.littleEndian;
  const n = image.byteLength;
  const dv = new DataView(image);
  // Whole samples only: an image whose byte length is not a multiple of the sample size (a lying
  // vox_offset or datatype) is cut to whole samples; the voxel count check then refuses it.
  const whole = (size: number): number => Math.floor(n / size);
  const read = (size: number, get: (o: number) => number): Float64Array => {
    const out = new Float64Array(whole(size));
    for (let i = 0; i < out.length; i++) out[i] = get(i * size);
    return out;
  };
  switch (h.datatypeCode) {
    case T.TYPE_UINT8: return new Uint8Array(image);
    case T.TYPE_INT8: return new Int8Array(image);
    case T.TYPE_INT16: return le ? new Int16Array(image, 0, whole(2)) : read(2, (o) => dv.getInt16(o, false));
    case T.TYPE_UINT16: return le ? new Uint16Array(image, 0, whole(2)) : read(2, (o) => dv.getUint16(o, false));
    case T.TYPE_INT32: return le ? new Int32Array(image, 0, whole(4)) : read(4, (o) => dv.getInt32(o, false));
    case T.TYPE_UINT32: return le ? new Uint32Array(image, 0, whole(4)) : read(4, (o) => dv.getUint32(o, false));
    case T.TYPE_FLOAT32: return le ? new Float32Array(image, 0, whole(4)) : read(4, (o) => dv.getFloat32(o, false));
    case T.TYPE_FLOAT64: return le ? new Float64Array(image, 0, whole(8)) : read(8, (o) => dv.getFloat64(o, false));
    case T.TYPE_INT64: return read(8, (o) => Number(dv.getBigInt64(o, le)));
    case T.TYPE_UINT64: return read(8, (o) => Number(dv.getBigUint64(o, le)));
    default:
      throw new InputError(`NIfTI ${file} has unsupported datatype ${h.datatypeCode}`, { file });
  }
}

function info(h: nifti.NIFTI1 | nifti.NIFTI2, affine: number[]): NiftiInfo {
  return {
    datatypeCode: h.datatypeCode,
    sclSlope: h.scl_slope,
    sclInter: h.scl_inter,
    qformCode: h.qform_code,
    sformCode: h.sform_code,
    affineRas: affine,
  };
}

/** A scalar volume (CT in HU) with scl_slope/scl_inter applied (a slope of 0 means "no scaling", nifti1.h). */
export function readNifti(file: string): Volume<Float32Array> & { nifti: NiftiInfo } {
  const { header: h, image, bytes } = readRaw(file);
  const dims = dimsOf(h, file);
  const affine = chosenAffine(h, bytes, file);
  const src = typedView(h, image, file);
  const count = dims[0] * dims[1] * dims[2];
  if (src.length < count) throw new InputError(`NIfTI ${file} is truncated: ${src.length} of ${count} voxels`, { file });
  const slope = h.scl_slope && Number.isFinite(h.scl_slope) ? h.scl_slope : 1;
  const inter = h.scl_slope && Number.isFinite(h.scl_inter) ? h.scl_inter : 0;
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = src[i]! * slope + inter;
  return { ...geometryFromRasAffine(affine, dims, file), data, nifti: info(h, affine) };
}

/** A label map: integer labels, no scaling; refuses non-integer or out-of-range values. */
export function readNiftiLabels(file: string): LabelVolume & { nifti: NiftiInfo } {
  const { header: h, image, bytes } = readRaw(file);
  const dims = dimsOf(h, file);
  const affine = chosenAffine(h, bytes, file);
  const src = typedView(h, image, file);
  const count = dims[0] * dims[1] * dims[2];
  if (src.length < count) throw new InputError(`NIfTI ${file} is truncated: ${src.length} of ${count} voxels`, { file });
  let max = 0;
  for (let i = 0; i < count; i++) {
    const v = src[i]!;
    if (v < 0 || !Number.isInteger(v)) throw new InputError(`label map ${file} holds a non-label value ${v} at voxel ${i}`, { file });
    if (v > max) max = v;
  }
  if (max > 65535) throw new InputError(`label map ${file} has label ${max} (> 65535)`, { file });
  const data = max <= 255 ? new Uint8Array(count) : new Uint16Array(count);
  for (let i = 0; i < count; i++) data[i] = src[i]!;
  return { ...geometryFromRasAffine(affine, dims, file), data, nifti: info(h, affine) };
}

/** Quaternion (b, c, d) and qfac of a rotation-with-possible-flip, as nifti1_io.c mat44_to_quatern. */
function quaternion(direction: Mat3): { b: number; c: number; d: number; qfac: number } {
  // RAS rotation: R = diag(-1,-1,1) * direction
  let r = [
    [-direction[0], -direction[1], -direction[2]],
    [-direction[3], -direction[4], -direction[5]],
    [direction[6], direction[7], direction[8]],
  ];
  const det =
    r[0]![0]! * (r[1]![1]! * r[2]![2]! - r[1]![2]! * r[2]![1]!) -
    r[0]![1]! * (r[1]![0]! * r[2]![2]! - r[1]![2]! * r[2]![0]!) +
    r[0]![2]! * (r[1]![0]! * r[2]![1]! - r[1]![1]! * r[2]![0]!);
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    r = r.map((row) => [row[0]!, row[1]!, -row[2]!]);
  }
  const [r11, r12, r13] = r[0] as [number, number, number];
  const [r21, r22, r23] = r[1] as [number, number, number];
  const [r31, r32, r33] = r[2] as [number, number, number];
  let a = r11 + r22 + r33 + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd); c = (0.25 * (r12 + r21)) / b; d = (0.25 * (r13 + r31)) / b; a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd); b = (0.25 * (r12 + r21)) / c; d = (0.25 * (r23 + r32)) / c; a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd); b = (0.25 * (r13 + r31)) / d; c = (0.25 * (r23 + r32)) / d; a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) { b = -b; c = -c; d = -d; }
  }
  return { b, c, d, qfac };
}

export interface WriteOptions {
  /** Stored type; default: int16 for Float32 CT that is integral within int16, else float32; uint8/uint16 for label maps. */
  datatype?: 'uint8' | 'int16' | 'uint16' | 'float32';
  description?: string;
  /** What the write is for, named in a storage error ("export labels"). */
  operation?: string;
}

/** Writes a .nii or (by extension) .nii.gz with both qform and sform set (code 1, scanner anatomical). */
export function writeNifti(file: string, vol: Volume<Float32Array | Int16Array | Uint8Array | Uint16Array>, opts: WriteOptions = {}): void {
  const T = nifti.NIFTI1;
  const count = vol.dims[0] * vol.dims[1] * vol.dims[2];
  if (vol.data.length !== count) throw new InputError(`volume for ${file} has ${vol.data.length} voxels, expected ${count}`, { file });
  let type = opts.datatype;
  if (!type) {
    if (vol.data instanceof Uint8Array) type = 'uint8';
    else if (vol.data instanceof Uint16Array) type = 'uint16';
    else if (vol.data instanceof Int16Array) type = 'int16';
    else type = vol.data.every((v) => Number.isInteger(v) && v >= -32768 && v <= 32767) ? 'int16' : 'float32';
  }
  const spec = {
    uint8: { code: T.TYPE_UINT8, bits: 8, Arr: Uint8Array },
    int16: { code: T.TYPE_INT16, bits: 16, Arr: Int16Array },
    uint16: { code: T.TYPE_UINT16, bits: 16, Arr: Uint16Array },
    float32: { code: T.TYPE_FLOAT32, bits: 32, Arr: Float32Array },
  }[type];
  const h = new nifti.NIFTI1();
  h.littleEndian = true;
  h.dims = [3, vol.dims[0], vol.dims[1], vol.dims[2], 1, 1, 1, 1];
  h.datatypeCode = spec.code;
  h.numBitsPerVoxel = spec.bits;
  const q = quaternion(vol.direction);
  h.pixDims = [q.qfac, vol.spacing[0], vol.spacing[1], vol.spacing[2], 0, 0, 0, 0];
  h.vox_offset = 352;
  h.scl_slope = 1;
  h.scl_inter = 0;
  h.xyzt_units = 2; // NIFTI_UNITS_MM
  h.qform_code = 1;
  h.sform_code = 1;
  h.quatern_b = q.b;
  h.quatern_c = q.c;
  h.quatern_d = q.d;
  const aff = rasAffineFromGeometry(vol);
  h.qoffset_x = aff[3]!;
  h.qoffset_y = aff[7]!;
  h.qoffset_z = aff[11]!;
  h.affine = [aff.slice(0, 4), aff.slice(4, 8), aff.slice(8, 12), [0, 0, 0, 1]];
  h.description = (opts.description ?? 'Delineate').slice(0, 79);
  h.magic = 'n+1';
  const header = new Uint8Array(h.toArrayBuffer(false));
  const out = new Uint8Array(352 + count * (spec.bits / 8));
  out.set(header.subarray(0, 348), 0); // bytes 348..351: no extensions
  const body = new spec.Arr(count);
  for (let i = 0; i < count; i++) body[i] = vol.data[i]!;
  out.set(new Uint8Array(body.buffer), 352);
  writeFileAtomic(file, file.endsWith('.gz') ? gzipSync(out, { level: 6 }) : out, { operation: opts.operation ?? 'write NIfTI' });
}
