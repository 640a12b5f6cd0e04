/**
 * Support (template) features, DESIGN.md step 5 (reference MedLAM/Cal_support_feature.py
 * `process_support` and detection_functions.py `cal_support_position`, `feature2conv`; parity README
 * Q8, Q9): for each template and each extreme-point row, the 64^3 patch around the point goes
 * through the full network; fc_position is averaged over templates (float32 sum / T) and, per feature
 * scale, the channel-normalised centre crop [S/2 - k/2, S/2 + k/2) is SUMMED over templates.
 * These depend only on the templates and the model, so they are cached (support-cache.ts).
 */
import { InputError, throwIfAborted } from '../errors.js';
import type { Vec3 } from '../volume/geometry.js';
import type { MedlamConstants } from './constants.js';
import { cropPatch, normaliseChannels, type MedlamNet } from './medlam-net.js';
import type { Preprocessed } from './preprocess.js';

export interface SupportFeatures {
  /** Rows = 6 * parts; row = part * 6 + point (0 zmin, 1 ymin, 2 xmin, 3 zmax, 4 ymax, 5 xmax). */
  rows: number;
  parts: number;
  templates: number;
  channels: number;
  kernelSizes: number[];
  /** Mean fc_position, [rows, 3], float32. */
  fc: Float32Array;
  /** Per scale: [rows, C, k, k, k], summed over templates. */
  kernels: Float32Array[];
  /** Per row, per template fc (for checks), [T, rows, 3]. */
  fcPerTemplate?: Float32Array;
}

export interface SupportTemplate {
  volume: Pick<Preprocessed, 'data' | 'shape'>;
  /** Extreme-point rows in the padded 3 mm grid, integer [z, y, x]. */
  rows: Vec3[];
}

/** The centre crop [S/2 - r, S/2 + r) of a [C, S, S, S] map, channel-normalised. */
export function centreKernel(map: Float32Array, channels: number, size: number, k: number): Float32Array {
  const r = k / 2;
  const lo = size / 2 - r;
  const out = new Float32Array(channels * k * k * k);
  let o = 0;
  for (let c = 0; c < channels; c++) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        const row = ((c * size + lo + a) * size + lo + b) * size + lo;
        for (let d = 0; d < k; d++) out[o++] = map[row + d]!;
      }
    }
  }
  return normaliseChannels(out, channels, k * k * k);
}

export async function computeSupport(
  net: MedlamNet,
  templates: SupportTemplate[],
  c: MedlamConstants,
  opts: { signal?: AbortSignal; structure?: string; onPatch?: () => void } = {},
): Promise<SupportFeatures> {
  const T = templates.length;
  if (T === 0) throw new InputError('a structure needs at least one template', { structure: opts.structure });
  const rows = templates[0]!.rows.length;
  if (rows === 0 || rows % 6 !== 0 || templates.some((t) => t.rows.length !== rows)) {
    throw new InputError(`templates disagree on the number of extreme-point rows (${templates.map((t) => t.rows.length).join(', ')})`, { structure: opts.structure });
  }
  const ks = c.kernelSizes;
  const fcSum = new Float32Array(rows * 3);
  const fcPer = new Float32Array(T * rows * 3);
  const kernels: Float32Array[] = [];
  let channels = 0;
  for (let t = 0; t < T; t++) {
    const tpl = templates[t]!;
    for (let r = 0; r < rows; r++) {
      throwIfAborted(opts.signal, { structure: opts.structure });
      const patch = cropPatch(tpl.volume.data, tpl.volume.shape, tpl.rows[r]!, c.patchSize);
      const f = await net.features(patch, c.patchSize);
      for (let a = 0; a < 3; a++) {
        fcSum[r * 3 + a] = Math.fround(fcSum[r * 3 + a]! + f.fc[a]!);
        fcPer[(t * rows + r) * 3 + a] = f.fc[a]!;
      }
      channels = f.channels;
      for (let s = 0; s < f.maps.length; s++) {
        const k = ks[s]!;
        const kern = centreKernel(f.maps[s]!, f.channels, f.sizes[s]!, k);
        const per = kern.length;
        if (!kernels[s]) kernels[s] = new Float32Array(rows * per);
        const dst = kernels[s]!;
        for (let i = 0; i < per; i++) dst[r * per + i] = Math.fround(dst[r * per + i]! + kern[i]!);
      }
      opts.onPatch?.();
    }
  }
  const fc = fcSum.map((v) => Math.fround(v / T));
  return { rows, parts: rows / 6, templates: T, channels, kernelSizes: [...ks], fc, kernels, fcPerTemplate: fcPer };
}

/** Compact binary form for the database cache: a JSON header line then the float32 arrays. */
export function encodeSupport(s: SupportFeatures): Buffer {
  const header = JSON.stringify({ v: 1, rows: s.rows, parts: s.parts, templates: s.templates, channels: s.channels, kernelSizes: s.kernelSizes, lengths: [s.fc.length, ...s.kernels.map((k) => k.length)] });
  const h = Buffer.from(`${header}\n`, 'utf8');
  const pad = (4 - (h.length % 4)) % 4;
  const bufs = [h, Buffer.alloc(pad, 0x20), Buffer.from(s.fc.buffer, s.fc.byteOffset, s.fc.byteLength), ...s.kernels.map((k) => Buffer.from(k.buffer, k.byteOffset, k.byteLength))];
  return Buffer.concat(bufs);
}

export function decodeSupport(b: Buffer): SupportFeatures {
  const nl = b.indexOf(0x0a);
  if (nl < 0) throw new InputError('cached support features are corrupt (no header)');
  const h = JSON.parse(b.subarray(0, nl).toString('utf8')) as { rows: number; parts: number; templates: number; channels: number; kernelSizes: number[]; lengths: number[] };
  let off = nl + 1;
  off += (4 - (off % 4)) % 4;
  const arrays = h.lengths.map((n) => {
    const a = new Float32Array(n);
    Buffer.from(a.buffer).set(b.subarray(off, off + n * 4));
    off += n * 4;
    return a;
  });
  return { rows: h.rows, parts: h.parts, templates: h.templates, channels: h.channels, kernelSizes: h.kernelSizes, fc: arrays[0]!, kernels: arrays.slice(1) };
}
