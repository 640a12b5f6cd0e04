/**
 * MedLAM behind the Localizer interface (DESIGN.md "MedLAM localization"): everything in and out is
 * LPS mm. Template points are mapped into each template's padded 3 mm grid; support features are
 * computed once per (template set, structure, model hash, mode) and cached; the query runs the coarse
 * stage (10 crops, fc-only graph when present) once for all structures, then the multi-scale
 * similarity per point, then back to the query's own grid.
 *
 * Confidence (0..1, per structure): mean over points of the similarity maximum rescaled to 0..1
 * ((max - 1) / (scales * templates): each scale adds at most T), times the mean agreement between
 * the coarse and the refined point (1 - |MSS offset| / 31, the offset's largest axis). Flags:
 * `absent` when the box lies wholly outside the scan on some axis, `cut-off` when it reaches or
 * crosses the scan's edge, `low-confidence` below LOW_CONFIDENCE. The reference has none of these.
 */
import { createHash } from 'node:crypto';
import { InputError, throwIfAborted } from '../errors.js';
import type { Vec3 } from '../volume/geometry.js';
import type { Volume } from '../volume/volume.js';
import { loadManifest, requireModel, type ModelManifest } from '../models/manifest.js';
import type { SessionOptions } from '../models/session.js';
import { medlamConstants, type MedlamConstants } from './constants.js';
import { boundsOf, referenceExtremePoints, referenceSplitExtremePoints, splitCount } from './extreme-points.js';
import type { Box, LocalizedStructure, LocalizeRequest, Localizer, ModelRef, StructureFlag, StructureTemplates } from './localizer.js';
import { MedlamNet } from './medlam-net.js';
import { patientToGrid, preprocess, resampleLabelsReference, type Preprocessed } from './preprocess.js';
import { backTransform, coarse, drawCropCentres, queryFc, refineAll } from './query.js';
import { MemorySupportCache, type SupportCache } from './support-cache.js';
import { computeSupport, type SupportFeatures, type SupportTemplate } from './support.js';
import { roundHalfEven } from '../volume/resample.js';

export const LOW_CONFIDENCE = 0.5;

export interface MedlamRequest extends LocalizeRequest {
  /** Coarse crop centres in the query's padded 3 mm grid [z, y, x] (the goldens' query_crop_centres_vox). */
  queryCropCentres?: Vec3[];
}

export interface MedlamOptions {
  cache?: SupportCache;
  session?: SessionOptions;
}

/** Template points (stored per LPS axis pair: x min/max, y min/max, z min/max) as the reference's rows in the padded 3 mm grid. */
export function templateRowsFromPoints(pre: Preprocessed, points: Vec3[], structure: string): Vec3[] {
  if (points.length !== 6) throw new InputError(`a template needs six extreme points, got ${points.length}`, { structure });
  const grid = points.map((p) => patientToGrid(pre, p));
  const rows: Vec3[] = new Array<Vec3>(6);
  // Stored pairs follow the patient axes (x, y, z: store/extreme-order.ts); canonical axis 2 is L (+x),
  // 1 is A (-y), 0 is S (+z). Within a pair, the lower canonical coordinate is the reference's min row.
  const canonicalOf = [2, 1, 0];
  for (let pair = 0; pair < 3; pair++) {
    const a = grid[2 * pair]!;
    const b = grid[2 * pair + 1]!;
    const axis = canonicalOf[pair]!;
    const [lo, hi] = a[axis]! <= b[axis]! ? [a, b] : [b, a];
    rows[axis] = lo.map(roundHalfEven) as Vec3;
    rows[3 + axis] = hi.map(roundHalfEven) as Vec3;
  }
  return rows;
}

export class MedlamLocalizer implements Localizer {
  readonly name = 'medlam';
  private readonly cache: SupportCache;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly net: MedlamNet,
    readonly constants: MedlamConstants,
    opts: MedlamOptions,
  ) {
    this.cache = opts.cache ?? new MemorySupportCache();
  }

  /** Verifies the models folder (sha256 of every file) and opens the sessions once. */
  static async fromModelsDir(dir: string, opts: MedlamOptions = {}): Promise<MedlamLocalizer> {
    return MedlamLocalizer.fromManifest(loadManifest(dir), opts);
  }

  static async fromManifest(manifest: ModelManifest, opts: MedlamOptions = {}): Promise<MedlamLocalizer> {
    const net = await MedlamNet.open(manifest, opts.session);
    // The constants belong to the method, not the file: a float16 entry may leave them to the float32 one.
    const constants = net.fullEntry.constants ?? requireModel(manifest, 'medlam-full').constants;
    return new MedlamLocalizer(manifest, net, medlamConstants(constants), opts);
  }

  models(): ModelRef[] {
    return this.net.models();
  }

  /** The network wrapper (benchmarks time its stages). */
  get network(): MedlamNet {
    return this.net;
  }

  withCache(cache: SupportCache): MedlamLocalizer {
    return new MedlamLocalizer(this.manifest, this.net, this.constants, { cache });
  }

  private templatesHash(s: StructureTemplates, mode: string): string {
    const h = createHash('sha256');
    h.update(JSON.stringify({ mode, c: this.constants, m: [...s.members].map((m) => [m.seriesUid, m.points]).sort() }));
    return h.digest('hex');
  }

  /** Support features of one structure: from the cache, or computed from the template volumes. */
  async support(req: LocalizeRequest, s: StructureTemplates, onPatch?: () => void): Promise<SupportFeatures> {
    const key = { templateSet: req.templateSet, structure: s.name, modelHash: this.net.modelHash, mode: req.mode, templatesHash: this.templatesHash(s, req.mode) };
    const hit = this.cache.get(key);
    if (hit) return hit;
    if (s.members.length === 0) throw new InputError(`structure ${s.name} has no templates`, { structure: s.name, templateSet: req.templateSet });
    const c = this.constants;
    const vols: Preprocessed[] = [];
    const masks: ({ data: Uint8Array; shape: [number, number, number] } | undefined)[] = [];
    for (const m of s.members) {
      throwIfAborted(req.signal, { structure: s.name });
      const vol = await m.loadVolume();
      vols.push(preprocess(vol as Volume<Float32Array>, c, `template ${m.seriesUid}`));
      const mask = req.mode === 'spl' && m.loadMask ? await m.loadMask() : undefined;
      masks.push(mask ? resampleLabelsReference({ ...vol, data: mask }, c) : undefined);
    }
    let rows: Vec3[][];
    if (req.mode === 'spl' && masks.every((m) => m !== undefined)) {
      // SPL needs the structure's shape: split by the reference's rule on each template's mask (Q7).
      const ms = masks.map((m) => ({ shape: m!.shape, data: m!.data, value: 1 }));
      const lengths = ms.map((m) => {
        const b = boundsOf(m);
        return b ? b.max[0] - b.min[0] : 0;
      });
      const n = splitCount(lengths, c.sliceInterval, c.maxParts);
      rows = ms.map((m) => (n > 0 ? referenceSplitExtremePoints(m, n) : referenceExtremePoints(m)) ?? []);
    } else {
      // WPL, or SPL without masks (clicked templates carry only six points): whole-structure rows.
      rows = s.members.map((m, i) => templateRowsFromPoints(vols[i]!, m.points, s.name));
    }
    const templates: SupportTemplate[] = vols.map((v, i) => ({ volume: v, rows: rows[i]! }));
    const sup = await computeSupport(this.net, templates, c, { ...(req.signal ? { signal: req.signal } : {}), structure: s.name, ...(onPatch ? { onPatch } : {}) });
    delete sup.fcPerTemplate;
    this.cache.put(key, sup);
    return sup;
  }

  async localize(req: MedlamRequest): Promise<LocalizedStructure[]> {
    const c = this.constants;
    const pre = preprocess(req.query as Volume<Float32Array>, c, `series ${req.seriesUid}`);
    const centres = req.queryCropCentres ?? drawCropCentres(pre, c);
    let done = 0;
    const total = centres.length + req.structures.length * 6 * (req.mode === 'spl' ? c.maxParts : 1);
    const tick = (message?: string): void => req.onProgress?.({ done: ++done, total, ...(message ? { message } : {}) });
    const supports: SupportFeatures[] = [];
    for (const s of req.structures) supports.push(await this.support(req, s));
    const q = await queryFc(this.net, pre, centres, c, req.signal);
    done += centres.length;
    // Every structure's rows in one pass: rows with the same crop centre share one forward.
    const coarseVox = supports.map((sup) => coarse(sup, q, c).coarseVox);
    const mss = await refineAll(this.net, pre, supports, coarseVox, c, req.signal, (i) => tick(req.structures[i]!.name));
    const out: LocalizedStructure[] = [];
    for (let i = 0; i < req.structures.length; i++) {
      const s = req.structures[i]!;
      const sup = supports[i]!;
      const m = mss[i]!;
      const parts = backTransform(pre, m.refinedUnpadded);
      const boxes: Box[] = parts.map((p) => ({
        min: [0, 1, 2].map((a) => Math.min(p.cornerLps[0][a]!, p.cornerLps[1][a]!)) as Vec3,
        max: [0, 1, 2].map((a) => Math.max(p.cornerLps[0][a]!, p.cornerLps[1][a]!)) as Vec3,
      }));
      const half = c.patchSize[0] / 2 - 1;
      const simScore = m.maxSim.map((v) => Math.min(1, Math.max(0, (v - 1) / (sup.kernels.length * sup.templates))));
      const agree = m.offset.map((o) => 1 - Math.min(1, Math.max(...o.map(Math.abs)) / half));
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const confidence = mean(simScore) * mean(agree);
      const flags: StructureFlag[] = [];
      const dims = req.query.dims;
      let absent = false;
      let cut = false;
      for (const p of parts) {
        for (let a = 0; a < 3; a++) {
          const lo = Math.min(p.cornerIjk[0][a]!, p.cornerIjk[1][a]!);
          const hi = Math.max(p.cornerIjk[0][a]!, p.cornerIjk[1][a]!);
          if (hi < 0 || lo > dims[a]! - 1) absent = true;
          else if (lo <= 0 || hi >= dims[a]! - 1) cut = true;
        }
      }
      if (absent) flags.push('absent');
      else if (cut) flags.push('cut-off');
      if (confidence < LOW_CONFIDENCE) flags.push('low-confidence');
      out.push({ name: s.name, boxes, extremePoints: parts.flatMap((p) => p.extremeLps), confidence, flags });
    }
    return out;
  }
}

/** The factory the backend registry uses. */
export function medlamFromModelsDir(dir: string, opts: MedlamOptions = {}): Promise<MedlamLocalizer> {
  return MedlamLocalizer.fromModelsDir(dir, opts);
}
