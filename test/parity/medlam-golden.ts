/**
 * Reads the MedLAM parity goldens (../shared/parity, README "File format"): each case folder holds
 * case.json whose `arrays` map names to raw little-endian C-order files (gzip when .gz). Everything
 * here is driven by case.json so that unseen case folders laid out the same way work unchanged.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';

export interface ArraySpec {
  file: string;
  dtype: string;
  shape: number[];
}

export interface GoldenArray {
  shape: number[];
  data: Float64Array | Float32Array | Int16Array | Uint8Array | Int32Array | BigInt64Array;
}

export interface MedlamCase {
  dir: string;
  json: Record<string, unknown> & {
    case: string;
    method: string;
    inputs: { support_ct: string[]; support_labels: string[]; query_ct: string; source_dirs?: string[] };
    model: { onnx: string; onnx_in64?: string; onnx_sha256?: string; onnx_in64_sha256?: string };
    constants: Record<string, unknown> & { bbox_mode: string; slice_interval: number | null };
    query: Record<string, unknown> & { affine: number[][]; padded_shape_zyx: number[]; zoom_factor_zyx: number[] };
    structures: Record<string, { name: string; n_parts: number; extract_mode: string; split_num: number; coarse_round_margin_vox?: number }>;
    arrays: Record<string, ArraySpec>;
  };
}

/** Every MedLAM case folder (case.json with a method starting "MedLAM") under the parity folder. */
export function findMedlamCases(root: string): MedlamCase[] {
  if (!existsSync(root)) return [];
  const out: MedlamCase[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    const cj = join(dir, 'case.json');
    if (!existsSync(cj)) continue;
    const json = JSON.parse(readFileSync(cj, 'utf8')) as MedlamCase['json'];
    if (typeof json.method === 'string' && json.method.startsWith('MedLAM')) out.push({ dir, json });
  }
  return out;
}

export function hasArray(c: MedlamCase, name: string): boolean {
  return name in c.json.arrays;
}

export function readArray(c: MedlamCase, name: string): GoldenArray {
  const spec = c.json.arrays[name];
  if (!spec) throw new Error(`case ${c.dir}: no array ${name} in case.json`);
  let buf = readFileSync(resolve(c.dir, spec.file));
  if (spec.file.endsWith('.gz')) buf = gunzipSync(buf);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const data = (() => {
    switch (spec.dtype) {
      case 'float64': return new Float64Array(ab);
      case 'float32': return new Float32Array(ab);
      case 'int16': return new Int16Array(ab);
      case 'uint8': return new Uint8Array(ab);
      case 'int32': return new Int32Array(ab);
      case 'int64': return new BigInt64Array(ab);
      default: throw new Error(`unsupported dtype ${spec.dtype} for ${name}`);
    }
  })();
  return { shape: spec.shape, data };
}

/** The array as plain numbers (int64 converted). */
export function readNumbers(c: MedlamCase, name: string): number[] {
  const a = readArray(c, name);
  return Array.from(a.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Rows of `width` numbers. */
export function rows(values: number[], width = 3): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < values.length; i += width) out.push(values.slice(i, i + width));
  return out;
}

/** Structure labels of the case in numeric order. */
export function structureLabels(c: MedlamCase): number[] {
  return Object.keys(c.json.structures).map(Number).sort((a, b) => a - b);
}

/** Where the case's input NIfTI files live: the source_dirs of case.json, resolved like the data folder. */
export function inputPath(c: MedlamCase, dataRoot: string, file: string): string | undefined {
  const cands = [join(dataRoot, 'openkbp', file), join(dataRoot, file)];
  for (const d of c.json.inputs.source_dirs ?? []) {
    const clean = d.replace(/\s*\(.*\)\s*$/, '');
    cands.push(resolve(c.dir, '..', clean, file), resolve(c.dir, clean, file));
  }
  return cands.find((p) => existsSync(p));
}
