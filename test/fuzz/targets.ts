/**
 * Fuzz targets: every reader of outside bytes, each with its seeds (phantom fixtures written here,
 * dcmtk re-encodings, ../shared/data when present), its mutator, and the engine call that reads a
 * case. `run` returns when the engine accepted the input and throws when it refused it; the
 * harness (harness.ts) decides whether a throw was a refusal naming the file or a crash.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decodeSliceHu } from '../../electron/engine/dicom/pixels.js';
import { readHeader } from '../../electron/engine/dicom/header.js';
import { readRtstruct, rasterizeStructures } from '../../electron/engine/rtstruct/read.js';
import { readNifti, readNiftiLabels, writeNifti } from '../../electron/engine/nifti/nifti.js';
import { readLabelNames, structuresFromLabels } from '../../electron/engine/eval/sources.js';
import { loadManifest } from '../../electron/engine/models/manifest.js';
import { writeRtstruct } from '../../electron/engine/rtstruct/write.js';
import { readPart10, toPart10, type Naturalized } from '../../electron/engine/rtstruct/dcmjs.js';
import { writePhantomSeries, type PhantomSeries } from '../fixtures/phantom/phantom.js';
import { dataDir } from '../helpers/data.js';
import { byteMutate, dicomMutate, encapsulatedMutate, int, pick, type Rng } from './mutate.js';

/** One case: files to write into a fresh folder (the first is the one read), or an HTTP request. */
export interface FuzzCase {
  files: [string, Uint8Array][];
  http?: { method: string; contentType: string; body: string };
}

export interface Target {
  name: string;
  seeds(dir: string): Uint8Array[][];
  mutate(r: Rng, seed: Uint8Array[]): FuzzCase;
  /** Reads the case with the engine (in a worker). */
  run(paths: string[], c: FuzzCase): Promise<void>;
  /** Started in the worker before its first case (a service, a server), outside the hang limit. */
  warm?(): Promise<void>;
}

const PHANTOM_GEOMETRY = { columns: 24, rows: 20, slices: 4 } as const;
let phantomCache: PhantomSeries | undefined;
function phantom(dir: string): PhantomSeries {
  // Per seeds folder: a folder removed since (another run's) must not be reused.
  if (!phantomCache || !existsSync(phantomCache.files[0]!.path)) phantomCache = writePhantomSeries(join(dir, 'phantom'), { seed: 'fuzz', ...PHANTOM_GEOMETRY });
  return phantomCache;
}

function realFiles(sub: string, max: number, filter: (f: string) => boolean): Uint8Array[] {
  const d = join(dataDir(), sub);
  if (!existsSync(d)) return [];
  return readdirSync(d).filter(filter).sort().slice(0, max).map((f) => readFileSync(join(d, f)));
}

/** Reads a DICOM image the way import and load do: header, then pixels when the header accepts it. */
async function readDicomImage(path: string): Promise<void> {
  const bytes = readFileSync(path);
  const h = readHeader(path, bytes, bytes.length, 0);
  if (h.kind === 'skip') throw new RefusedError(h.reason);
  if (h.kind === 'object') return;
  await decodeSliceHu(path, { rows: h.rows, columns: h.columns }, new Float32Array(h.rows * h.columns), 0);
}

/** A refusal reported as a value (readHeader's skip) rather than thrown by the engine. */
export class RefusedError extends Error {}

const dicomTarget: Target = {
  name: 'dicom',
  seeds(dir) {
    const ph = phantom(dir);
    const own = ph.files.map((f) => [readFileSync(f.path)]);
    // Headerless variants: the dataset without preamble and meta group.
    const raw = own.slice(0, 1).map(([b]) => [b!.subarray(132 + 12 + new DataView(b!.buffer, b!.byteOffset).getUint32(140, true))]);
    const real = realFiles('4dlung/ct', 3, (f) => f.endsWith('.dcm')).map((b) => [b]);
    return [...own, ...raw, ...real];
  },
  mutate(r, [seed]) {
    return { files: [['case.dcm', int(r, 3) === 0 ? byteMutate(r, seed!) : dicomMutate(r, seed!)]] };
  },
  run: ([p]) => readDicomImage(p!),
};

const pixelsTarget: Target = {
  name: 'pixels',
  seeds(dir) {
    const ph = phantom(dir);
    const out: Uint8Array[][] = [];
    const encoders: [string, string[]][] = [['dcmcrle', []], ['dcmcjpls', []], ['dcmcjpeg', ['+e1']], ['dcmcjpeg', ['+el']]];
    mkdirSync(join(dir, 'enc'), { recursive: true });
    for (const [tool, args] of encoders) {
      const dst = join(dir, 'enc', `${tool}${args.join('')}.dcm`);
      const r = spawnSync(tool, [...args, ph.files[1]!.path, dst]);
      if (r.status === 0) out.push([readFileSync(dst)]);
    }
    // JPEG baseline needs 8-bit input.
    const ph8 = writePhantomSeries(join(dir, 'phantom8'), { seed: 'fuzz8', ...PHANTOM_GEOMETRY, bitsAllocated: 8 });
    const dst = join(dir, 'enc', 'baseline.dcm');
    if (spawnSync('dcmcjpeg', ['+eb', ph8.files[0]!.path, dst]).status === 0) out.push([readFileSync(dst)]);
    if (out.length === 0) throw new Error('pixels: no dcmtk encoder (dcmcrle, dcmcjpls, dcmcjpeg) produced a seed');
    return out;
  },
  mutate(r, [seed]) {
    return { files: [['case.dcm', int(r, 4) === 0 ? dicomMutate(r, seed!) : encapsulatedMutate(r, seed!)]] };
  },
  run: ([p]) => readDicomImage(p!),
};

/** RTSTRUCT structure-aware: contours of 0-2 points, NaN coordinates, missing slices, a million points. */
function mutateContours(r: Rng, ds: Naturalized): Naturalized {
  const rois = (ds.ROIContourSequence as Naturalized[] | undefined) ?? [];
  const roi = rois.length ? pick(r, rois) : undefined;
  const contours = (roi?.ContourSequence as Naturalized[] | undefined) ?? [];
  const c = contours.length ? pick(r, contours) : undefined;
  if (!c) return ds;
  const data = (c.ContourData as number[] | undefined) ?? [];
  switch (int(r, 9)) {
    case 0: c.ContourData = data.slice(0, 3 * int(r, 3)); break; // 0-2 points
    case 1: c.ContourData = data.map((v, i) => (i === int(r, data.length) ? NaN : v)); break;
    case 2: c.ContourData = data.map(() => pick(r, [Infinity, -Infinity, 1e308, NaN])); break;
    case 3: { // refers to a slice that does not exist
      const img = (c.ContourImageSequence as Naturalized[] | undefined)?.[0];
      if (img) img.ReferencedSOPInstanceUID = `2.25.${int(r, 1e9)}`;
      break;
    }
    case 4: c.ContourData = data.map((v, i) => (i % 3 === 2 ? v + 1000 * r() : v)); break; // off-slice z
    case 5: c.NumberOfContourPoints = pick(r, [0, 1, 1e9, -1]); break;
    case 6: c.ContourGeometricType = pick(r, ['POINT', 'OPEN_PLANAR', 'GARBAGE', '']); break;
    case 7: if (int(r, 50) === 0) { // a million points (rarely: 20 MB of text), spliced in after encoding
      c.ContourData = [MILLION_MARKER];
      c.NumberOfContourPoints = 1e6;
    } break;
    default: if (roi) roi.ReferencedROINumber = int(r, 100);
  }
  return ds;
}

export const rtstructTarget: Target = {
  name: 'rtstruct',
  seeds(dir) {
    const ph = phantom(dir);
    const series = {
      seriesInstanceUid: ph.seriesUid, studyInstanceUid: ph.studyUid, frameOfReferenceUid: ph.frameOfReferenceUid,
      header: readPart10(ph.files[0]!.path, { untilPixelData: true }).dataset,
      instances: ph.files.map((f) => ({ sopInstanceUid: f.sopInstanceUid, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', position: f.position })),
      geometry: ph.geometry,
    };
    const z = (k: number): number => ph.files.find((f) => f.sliceIndex === k)!.position[2];
    const ring = (k: number, cx: number, cy: number, rad: number): [number, number, number][] =>
      Array.from({ length: 12 }, (_, i) => [cx + rad * Math.cos((i * Math.PI) / 6), cy + rad * Math.sin((i * Math.PI) / 6), z(k)]);
    const out = join(dir, 'rs.dcm');
    writeRtstruct(out, series, [
      { name: 'Body', color: [255, 0, 0], interpretedType: 'EXTERNAL', contours: [0, 1, 2, 3].map((k) => ring(k, 0, 0, 15)), generationAlgorithm: 'AUTOMATIC', generationDescription: 'fuzz' },
      { name: 'Lung_R', color: [0, 255, 0], interpretedType: 'ORGAN', contours: [1, 2].map((k) => ring(k, -5, 0, 4)), generationAlgorithm: 'AUTOMATIC', generationDescription: 'fuzz' },
    ], {});
    const real = realFiles('4dlung/rtstruct', 1, (f) => f.endsWith('.dcm'));
    return [[readFileSync(out)], ...real.map((b) => [b])];
  },
  mutate(r, [seed]) {
    if (int(r, 2) === 0) {
      const tmp = readPart10FromBytes(seed!);
      // Implicit VR: explicit VR's 2-byte DS length cannot hold a million points (PS3.5 7.1.2).
      return { files: [['case.dcm', withMillionPoints(toPart10(mutateContours(r, tmp), '1.2.840.10008.1.2'))]] };
    }
    return { files: [['case.dcm', int(r, 2) === 0 ? dicomMutate(r, seed!) : byteMutate(r, seed!)]] };
  },
  async run([p]) {
    const rt = readRtstruct(p!);
    const g = phantomCache?.geometry ?? { dims: [24, 20, 4] as [number, number, number], spacing: [2, 2, 3] as [number, number, number], origin: [-23, -19, -100] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as const };
    rasterizeStructures(rt, { ...g, direction: [...g.direction] as never });
  },
};

export const MILLION_MARKER = '987654.3210';

/**
 * dcmjs formats a 3e6-value DS far too slowly for a fuzz loop: the contour is encoded with a marker
 * value and the million points replace it in the bytes (implicit VR, 4-byte length; dcmjs writes
 * sequences and items with undefined length, so no enclosing length changes).
 */
export function withMillionPoints(b: Uint8Array): Uint8Array {
  const marker = new TextEncoder().encode(`${MILLION_MARKER} `);
  const head = Uint8Array.of(0x06, 0x30, 0x50, 0x00, marker.length, 0, 0, 0);
  const hay = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const at = hay.indexOf(Buffer.concat([head, marker]));
  if (at < 0) return b;
  let text = Array.from({ length: 3e6 }, (_, i) => (i % 3 === 2 ? '0' : (Math.sin(i) * 50).toFixed(2))).join('\\');
  if (text.length % 2 === 1) text += ' ';
  const value = new TextEncoder().encode(text);
  const len = Uint8Array.of(value.length & 0xff, (value.length >>> 8) & 0xff, (value.length >>> 16) & 0xff, value.length >>> 24);
  return new Uint8Array(Buffer.concat([hay.subarray(0, at + 4), len, value, hay.subarray(at + head.length + marker.length)]));
}

let seedCounter = 0;
/** Parsed seeds, by identity: parsing the 137 KB 4D-Lung RTSTRUCT with dcmjs for every case was most of this target's time. */
const parsedSeeds = new WeakMap<Uint8Array, Naturalized>();
function readPart10FromBytes(b: Uint8Array): Naturalized {
  let ds = parsedSeeds.get(b);
  if (!ds) {
    const p = join(process.env.DELINEATE_FUZZ_TMP ?? '/tmp', `seed-${process.pid}-${seedCounter++ % 4}.dcm`);
    writeFileSync(p, b);
    ds = readPart10(p).dataset;
    parsedSeeds.set(b, ds);
  }
  // The mutators change the dataset in place: each case gets its own copy.
  return deepCopy(ds) as Naturalized;
}

/** Arrays and plain objects copied, everything else (strings, numbers, ArrayBuffers, which no mutator edits) shared. */
function deepCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepCopy(x)]));
  return v;
}

// ---- NIfTI ----

function niftiSeeds(dir: string, labels: boolean): Uint8Array[] {
  const dims: [number, number, number] = [12, 10, 6];
  const n = dims[0] * dims[1] * dims[2];
  const data = labels ? Uint8Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 1 : i % 11 === 0 ? 2 : 0)) : Int16Array.from({ length: n }, (_, i) => (i % 50) - 25);
  const out: Uint8Array[] = [];
  mkdirSync(dir, { recursive: true });
  for (const ext of ['.nii', '.nii.gz']) {
    const p = join(dir, `${labels ? 'lab' : 'vol'}${ext}`);
    writeNifti(p, { dims, spacing: [2, 2, 3], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data });
    out.push(readFileSync(p));
  }
  return out;
}

const NIFTI_FIELDS: [number, 'i16' | 'f32'][] = [[40, 'i16'], [42, 'i16'], [44, 'i16'], [46, 'i16'], [70, 'i16'], [72, 'i16'], [76, 'f32'], [80, 'f32'], [108, 'f32'], [112, 'f32'], [116, 'f32'], [252, 'i16'], [254, 'i16'], [280, 'f32'], [296, 'f32']];
const NIFTI_VALUES = [0, -1, 1, 2, 4, 8, 16, 64, 255, 511, 768, 32767, -32768, NaN, Infinity, 1e30, 352, 1e9];

/** Header lies (dims, datatype, bitpix, pixdim, vox_offset, scl_slope 0/NaN, qform/sform) and byte damage, gzipped or not, gzip truncated. */
function niftiMutate(r: Rng, seed: Uint8Array, gz: boolean): Uint8Array {
  let raw: Uint8Array = gz ? new Uint8Array(gunzipSync(seed)) : Uint8Array.from(seed);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < 1 + int(r, 3); i++) {
    const [off, type] = pick(r, NIFTI_FIELDS);
    const v = pick(r, NIFTI_VALUES);
    if (type === 'i16') dv.setInt16(off, Number.isFinite(v) ? Math.max(-32768, Math.min(32767, v)) : 0, true);
    else dv.setFloat32(off, v, true);
  }
  if (int(r, 4) === 0) raw = byteMutate(r, raw);
  if (!gz) return raw;
  const z = gzipSync(raw);
  return int(r, 3) === 0 ? z.subarray(0, int(r, z.length)) : z;
}

const niftiTarget: Target = {
  name: 'nifti',
  seeds: (dir) => niftiSeeds(dir, false).map((b) => [b]),
  mutate(r, [seed]) {
    const gz = seed![0] === 0x1f && seed![1] === 0x8b;
    return { files: [[gz ? 'case.nii.gz' : 'case.nii', niftiMutate(r, seed!, gz)]] };
  },
  async run([p]) {
    readNifti(p!);
  },
};

const NAMES_CASES = ['{"1": "Brainstem"}', '[]', '{}', '{"0": "x"}', '{"1": ""}', '{"1": 5}', '{"65536": "x"}', '{"1.5": "x"}', '{"-1": "x"}', 'null', '"str"', '{"1": "a", "1": "b"}', '{"1": "\u0000"}'];

const labelsTarget: Target = {
  name: 'labels',
  seeds: (dir) => niftiSeeds(dir, true).map((b) => [b, new TextEncoder().encode('{"1": "Brainstem", "2": "Parotid_L"}')]),
  mutate(r, [seed, names]) {
    const gz = seed![0] === 0x1f && seed![1] === 0x8b;
    const lab = int(r, 2) === 0 ? niftiMutate(r, seed!, gz) : seed!;
    let json: Uint8Array;
    switch (int(r, 4)) {
      case 0: json = new TextEncoder().encode(pick(r, NAMES_CASES)); break;
      case 1: json = byteMutate(r, names!); break;
      case 2: json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(Array.from({ length: 1 + int(r, 20000) }, (_, i) => [String(i + 1), `S${i}`])))); break;
      default: json = names!;
    }
    return { files: [[gz ? 'case.nii.gz' : 'case.nii', lab], ['case.json', json]] };
  },
  async run([lab, names]) {
    const n = readLabelNames(names!);
    const v = readNiftiLabels(lab!);
    for (const s of structuresFromLabels(v.data, n)) void s;
  },
};

const manifestTarget: Target = {
  name: 'manifest',
  seeds: () => {
    const model = new Uint8Array([1, 2, 3]);
    const sha256 = createHash('sha256').update(model).digest('hex');
    return [[new TextEncoder().encode(JSON.stringify({ format: 1, models: [{ name: 'tiny', role: 'sam-decoder', file: 'tiny.onnx', sha256, inputs: ['x'], outputs: ['y'] }] }, null, 1)), model]];
  },
  mutate(r, [seed, model]) {
    const base = JSON.parse(new TextDecoder().decode(seed)) as { models: Record<string, unknown>[] };
    const m = base.models[0]!;
    const bad: unknown[] = ['../../etc/passwd', '/etc/passwd', '', null, 5, [], {}, 'x'.repeat(5000), 'nul\u0000.onnx', '..', 'C:\\x.onnx'];
    let text: string;
    switch (int(r, 5)) {
      case 0: m[pick(r, ['name', 'role', 'file', 'sha256', 'inputs', 'outputs', 'constants', 'precision'])] = pick(r, bad); text = JSON.stringify(base); break;
      case 1: text = JSON.stringify({ ...base, models: pick(r, [null, {}, 'x', Array.from({ length: 10000 }, () => m)]) }); break;
      case 2: text = '['.repeat(100000) + ']'.repeat(100000); break;
      case 3: text = pick(r, ['', 'null', '{', '{"models": [1, 2]}', '\ufeff{"models": []}']); break;
      default: text = new TextDecoder().decode(byteMutate(r, seed!));
    }
    return { files: [['manifest.json', new TextEncoder().encode(text)], ['tiny.onnx', model!]] };
  },
  async run([manifest]) {
    const dir = manifest!.slice(0, -'/manifest.json'.length);
    loadManifest(dir);
  },
};

export const FILE_TARGETS: Target[] = [dicomTarget, pixelsTarget, rtstructTarget, niftiTarget, labelsTarget, manifestTarget];
