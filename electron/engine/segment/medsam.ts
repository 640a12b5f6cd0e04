/**
 * MedSAM / SAM segmenter over ONNX Runtime (DESIGN.md "MedSAM / SAM segmentation"). For every axial
 * slice (constant k) in a box's z-range: preprocess as the reference (preprocess.ts), encode once per
 * slice (embeddings shared by every structure through EmbeddingCache), decode each structure's box
 * (mask token 0), turn the low-res logits into the slice mask the reference's way (postdecode.ts), then
 * assemble in 3-D and clean up (cleanup.ts).
 *
 * Two slice-range modes:
 * - 'inclusive' (product): every slice of each box's inclusive z-range, clipped to the volume;
 * - 'reference' (parity): the reference's prepared range is the half-open global range
 *   [min z_min, max z_max) over all structures, clipped to [0, depth], and each structure takes the
 *   prepared slices with z_min <= k <= z_max, so the structure reaching furthest loses its last slice
 *   (parity README M1). Used with `postprocess: false` it reproduces the reference's masks.
 */
import { join } from 'node:path';
import { InputError, throwIfAborted } from '../errors.js';
import { sha256File } from '../models/manifest.js';
import type { SessionOptions } from '../models/session.js';
import type { ModelRef } from '../localize/localizer.js';
import { defaultCacheDir } from '../paths.js';
import { patientToVoxel, type Vec3 } from '../volume/geometry.js';
import type { Volume } from '../volume/volume.js';
import { cleanupMask, ruleFor, type CleanupRule } from './cleanup.js';
import { EmbeddingCache } from './embedding-cache.js';
import { maskFromLowRes } from './postdecode.js';
import {
  boxTo1024,
  clippedRange,
  encoderInput,
  MEDSAM_CONSTANTS,
  sliceImage,
  windowSlice,
  type SamPreprocessConstants,
} from './preprocess.js';
import { SamOnnx } from './sam-onnx.js';
import { SlicePreparer } from './prep-ahead.js';
import type { SegmentedStructure, SegmentRequest, Segmenter } from './segmenter.js';

type Scalars = Float32Array | Int16Array | Uint8Array | Uint16Array;

export interface MedsamOptions {
  encoderFile: string;
  decoderFile: string;
  /** sha256 of the files (from the manifest); computed when absent. */
  encoderSha256?: string;
  decoderSha256?: string;
  constants?: Partial<SamPreprocessConstants>;
  session?: SessionOptions;
  /** Shared embedding cache; default: memory + disk under defaultCacheDir(). */
  cache?: EmbeddingCache;
  sliceRange?: 'inclusive' | 'reference';
  /** 3-D clean-up (default true); the parity path turns it off. */
  postprocess?: boolean;
  cleanupRules?: Record<string, Partial<CleanupRule>>;
  /**
   * false re-encodes every slice for every structure and bypasses the cache: the reference's way,
   * kept only as the benchmark's baseline.
   */
  shareEmbeddings?: boolean;
  /** Below this mean predicted IoU a structure is flagged low-confidence. */
  lowConfidence?: number;
  /**
   * Prepare slice n+1's encoder input in a worker thread while slice n encodes (prep-ahead.ts);
   * default true. Only used when a run has at least PREPARE_AHEAD_MIN_SLICES slices to encode.
   */
  prepareAhead?: boolean;
}

/** One box on the voxel grid (inclusive, float indices as the localizer gives them). */
export interface VoxelBox {
  iMin: number;
  jMin: number;
  kMin: number;
  iMax: number;
  jMax: number;
  kMax: number;
}

/** Per structure: which slices each box segments. */
export interface SlicePlan {
  structure: string;
  jobs: { box: VoxelBox; slices: number[] }[];
  /** Some part of a box's z-range lies outside the volume. */
  cutOff: boolean;
}

const near = (v: number): number => (Math.abs(v - Math.round(v)) < 1e-6 ? Math.round(v) : v);

/** LPS box corners -> inclusive voxel box (the direction may flip axes, so min/max per axis). */
export function voxelBox(vol: Volume<Scalars>, min: Vec3, max: Vec3): VoxelBox {
  const a = patientToVoxel(vol, min).map(near);
  const b = patientToVoxel(vol, max).map(near);
  return {
    iMin: Math.min(a[0]!, b[0]!), jMin: Math.min(a[1]!, b[1]!), kMin: Math.min(a[2]!, b[2]!),
    iMax: Math.max(a[0]!, b[0]!), jMax: Math.max(a[1]!, b[1]!), kMax: Math.max(a[2]!, b[2]!),
  };
}

export function planSlices(
  structures: { name: string; boxes: VoxelBox[] }[],
  nk: number,
  mode: 'inclusive' | 'reference',
): SlicePlan[] {
  let prepared: { lo: number; hi: number } | undefined;
  if (mode === 'reference') {
    // preprocess_ct: range(int32(max(0, z_min)), int32(min(depth, z_max))), global over structures,
    // where z_min is each structure's FIRST box's min and z_max its LAST box's max
    // (corner_cor_dic[key][0][0][0] and [-1][1][0] in MedLSAM_WPL/SPL_Inference.py).
    const zMin = Math.min(...structures.filter((s) => s.boxes.length).map((s) => s.boxes[0]!.kMin));
    const zMax = Math.max(...structures.filter((s) => s.boxes.length).map((s) => s.boxes[s.boxes.length - 1]!.kMax));
    prepared = { lo: Math.trunc(Math.max(0, zMin)), hi: Math.trunc(Math.min(nk, zMax)) };
  }
  return structures.map((s) => {
    let cutOff = false;
    const jobs = s.boxes.map((box) => {
      if (box.kMin < 0 || box.kMax > nk - 1) cutOff = true;
      const slices: number[] = [];
      if (prepared) {
        for (let k = prepared.lo; k < prepared.hi; k++) if (k >= box.kMin && k <= box.kMax) slices.push(k);
      } else {
        for (let k = Math.max(0, Math.ceil(box.kMin)); k <= Math.min(nk - 1, Math.floor(box.kMax)); k++) slices.push(k);
      }
      return { box, slices };
    });
    return { structure: s.name, jobs, cutOff };
  });
}

/** Identifies the preprocessing in cache keys. */
export function recipeId(c: SamPreprocessConstants): string {
  return `w${c.windowHu.join(',')};s${c.imageSize};o${c.resizeOrder};m${c.pixelMean.join(',')};d${c.pixelStd.join(',')}`;
}

/** Below this many slices to encode, starting the preparation worker costs more than it hides. */
export const PREPARE_AHEAD_MIN_SLICES = 3;

export class MedsamSegmenter implements Segmenter {
  readonly name = 'medsam';
  readonly constants: SamPreprocessConstants;
  readonly cache: EmbeddingCache;
  private sam: Promise<SamOnnx> | undefined;
  private hashes: { encoder: string; decoder: string } | undefined;
  /** Encoder runs since construction (the benchmark reports them). */
  encoderRuns = 0;
  decoderRuns = 0;

  constructor(private readonly opts: MedsamOptions) {
    this.constants = { ...MEDSAM_CONSTANTS, ...(opts.constants ?? {}) };
    this.cache = opts.cache ?? new EmbeddingCache({ dir: join(defaultCacheDir(), 'segment') });
  }

  private modelHashes(): { encoder: string; decoder: string } {
    this.hashes ??= {
      encoder: this.opts.encoderSha256 ?? sha256File(this.opts.encoderFile),
      decoder: this.opts.decoderSha256 ?? sha256File(this.opts.decoderFile),
    };
    return this.hashes;
  }

  models(): ModelRef[] {
    const h = this.modelHashes();
    return [
      { name: 'sam-encoder', sha256: h.encoder },
      { name: 'sam-decoder', sha256: h.decoder },
    ];
  }

  /** Opens the ONNX sessions now (seconds for ViT-B) instead of on the first slice. */
  async ready(): Promise<void> {
    await this.open();
  }

  private open(): Promise<SamOnnx> {
    this.sam ??= SamOnnx.open(this.opts.encoderFile, this.opts.decoderFile, this.opts.session ?? {});
    return this.sam;
  }

  /** The 1024 uint8 image of slice k (exposed for the parity test and the viewer's debug overlay). */
  sliceImage(vol: Volume<Scalars>, k: number, range = clippedRange(vol.data, this.constants.windowHu)): Uint8Array {
    const pre = windowSlice(vol, k, this.constants.windowHu, range);
    return sliceImage(pre, vol.dims[1], vol.dims[0], this.constants);
  }

  /** The embedding of slice k: from the cache, or encoded (and cached) now. */
  async embedding(
    seriesUid: string,
    vol: Volume<Scalars>,
    k: number,
    range: { min: number; max: number },
    useCache = true,
    prepared?: Promise<Float32Array>,
  ): Promise<Float32Array> {
    const sam = await this.open();
    const key = this.embeddingKey(seriesUid, k);
    if (useCache) {
      const hit = this.cache.get(key, sam.embeddingLength);
      if (hit) return hit;
    }
    const input = prepared ? await prepared : encoderInput(this.sliceImage(vol, k, range), this.constants);
    const emb = await sam.encode(input);
    this.encoderRuns++;
    if (useCache) this.cache.set(key, emb);
    return emb;
  }

  private embeddingKey(seriesUid: string, k: number): { modelHash: string; seriesUid: string; slice: number; recipe: string } {
    return { modelHash: this.modelHashes().encoder, seriesUid, slice: k, recipe: recipeId(this.constants) };
  }

  async segment(req: SegmentRequest): Promise<SegmentedStructure[]> {
    const vol = req.volume as Volume<Scalars>;
    const [ni, nj, nk] = vol.dims;
    const plane = ni * nj;
    if (vol.data.length !== plane * nk) throw new InputError(`series ${req.seriesUid}: volume data does not match its dims`, { seriesUid: req.seriesUid });
    for (const s of req.structures) {
      if (s.boxes.length === 0) throw new InputError(`structure ${s.name} has no box to segment`, { seriesUid: req.seriesUid, structure: s.name });
    }
    const sam = await this.open();
    if (sam.imageSize !== this.constants.imageSize) {
      throw new InputError(`SAM encoder ${this.opts.encoderFile} takes ${sam.imageSize}px images but the constants say ${this.constants.imageSize}`);
    }
    const range = clippedRange(vol.data, this.constants.windowHu);
    const plans = planSlices(
      req.structures.map((s) => ({ name: s.name, boxes: s.boxes.map((b) => voxelBox(vol, b.min, b.max)) })),
      nk,
      this.opts.sliceRange ?? 'inclusive',
    );
    const masks = plans.map(() => new Uint8Array(plane * nk));
    const ious: number[][] = plans.map(() => []);
    const share = this.opts.shareEmbeddings ?? true;
    const reference = this.opts.sliceRange === 'reference';

    // Slice-major order: encode a slice once, then decode every box that covers it.
    const bySlice = new Map<number, { s: number; box: VoxelBox }[]>();
    plans.forEach((p, s) => p.jobs.forEach((j) => j.slices.forEach((k) => {
      const l = bySlice.get(k) ?? [];
      l.push({ s, box: j.box });
      bySlice.set(k, l);
    })));
    const slices = [...bySlice.keys()].sort((a, b) => a - b);
    // Slices whose embedding is not cached are encoded; the worker prepares the next one meanwhile.
    const toEncode = share ? slices.filter((k) => !this.cache.has(this.embeddingKey(req.seriesUid, k))) : [];
    const preparer = (this.opts.prepareAhead ?? true) && toEncode.length >= PREPARE_AHEAD_MIN_SLICES ? new SlicePreparer(this.constants) : undefined;
    const ahead = new Map<number, Promise<Float32Array>>();
    const prepareNext = (k: number): void => {
      const next = toEncode.find((x) => x > k);
      if (!preparer || next === undefined || ahead.has(next)) return;
      const p = preparer.prepare(vol, next, range);
      p.catch(() => undefined); // awaited (and its error thrown) when slice `next` is reached
      ahead.set(next, p);
    };
    try {
      let done = 0;
      for (const k of slices) {
        throwIfAborted(req.signal, { seriesUid: req.seriesUid });
        const jobs = bySlice.get(k)!;
        let shared: Float32Array | undefined;
        // Queued before this slice's encoder run, so the worker prepares slice n+1 during it.
        prepareNext(k);
        for (const job of jobs) {
          const emb = share
            ? (shared ??= await this.embedding(req.seriesUid, vol, k, range, true, ahead.get(k)))
            : await this.embedding(req.seriesUid, vol, k, range, false);
          ahead.delete(k);
          const box1024 = boxTo1024(job.box, ni, nj, this.constants);
          const dec = await sam.decodeBox(emb, box1024);
          this.decoderRuns++;
          // The reference ASSIGNS each box's slice mask (pred_key_array[img_id] = ...), so where SPL
          // parts share a slice the later part wins; the product takes the union.
          if (reference) masks[job.s]!.fill(0, k * plane, (k + 1) * plane);
          maskFromLowRes(dec.lowRes, dec.lowSize, sam.imageSize, nj, ni, masks[job.s]!, k * plane);
          ious[job.s]!.push(dec.iou);
        }
        req.onProgress?.({ done: ++done, total: slices.length, message: `slice ${k}` });
      }
    } finally {
      await preparer?.close();
    }

    const voxelCc = (vol.spacing[0] * vol.spacing[1] * vol.spacing[2]) / 1000;
    return plans.map((p, s) => {
      const mask = masks[s]!;
      let voxels = 0;
      if (this.opts.postprocess ?? true) voxels = cleanupMask(mask, vol.dims, ruleFor(p.structure, this.opts.cleanupRules));
      else for (let q = 0; q < mask.length; q++) voxels += mask[q]!;
      const iou = ious[s]!;
      // Confidence: the decoder's mean predicted IoU for mask token 0, clamped to [0, 1].
      const confidence = iou.length ? Math.min(1, Math.max(0, iou.reduce((a, b) => a + b, 0) / iou.length)) : 0;
      const flags: SegmentedStructure['flags'] = [];
      if (voxels === 0) flags.push('absent');
      if (p.cutOff) flags.push('cut-off');
      if (confidence < (this.opts.lowConfidence ?? 0.5)) flags.push('low-confidence');
      return { name: p.structure, mask, voxels, volumeCc: voxels * voxelCc, confidence, flags };
    });
  }
}
