/**
 * The weight-free localizer: every template CT is registered to the query (global rigid -> affine,
 * then a local affine around each structure; NCC on HU clipped to [-200, 1500]), the template's six
 * extreme points are carried through, optionally refined by block matching, the templates are fused
 * by the point-wise median, and the box is taken from the designated points as MedLAM does. The
 * approach is classical multi-atlas localisation (platipy's atlas auto-contouring; elastix-style
 * registration); see electron/engine/registration/.
 *
 * When every template member of a structure also has a mask (templates derived from contours), the
 * box and extreme points come from the structure's segmented contour (the atlas segmenter's
 * deformable registration and fusion, kept for the segmenter so a full run computes it once; see
 * options.boxFromSegmentation), or with that option off from the masks carried through the local
 * affine registrations and fused (fuse-masks.ts): on OpenKBP leave-one-out that gave mean box IoU
 * 0.578 against 0.544 for the median of carried points. Points-only structures use the points.
 *
 * Mode 'spl' is answered with the whole-organ box (one box per structure): the atlas localizer has
 * no sub-part templates; the atlas segmenter's propagated masks follow the organ's shape instead.
 * Confidence: fuse.ts confidenceOf (local NCC times template agreement).
 */
import { InputError, throwIfAborted } from '../../errors.js';
import { voxelToPatient, type Vec3 } from '../../volume/geometry.js';
import type { LocalizeRequest, LocalizedStructure, Localizer, ModelRef } from '../localizer.js';
import { runAtlasJobs, TEMPLATE_JOBS, type AtlasPoolOptions } from './atlas-pool.js';
import { DEFAULT_ATLAS_OPTIONS, type AtlasOptions, type TemplateJobResult } from '../../registration/template-job.js';
import { boxFromPoints, confidenceOf, flagBox, lpsAxesOf, medianPoints, volumeBox } from './fuse.js';
import { groupBySeries, lazyJobs, selectTemplates, sharedQuery, TransformCache, type SelectOptions, type TemplateGroup } from './templates.js';
import { fuseMasks } from '../../segment/atlas/fuse-masks.js';
import { maskBoxLps } from '../../metrics/boxes.js';
import { extremePointsFromLabels } from '../extreme-points.js';
import { AtlasSegmenter } from '../../segment/atlas/atlas-segmenter.js';

export interface AtlasBackendOptions {
  /** Worker threads (0: run on the calling thread). Default: the machine's cores. */
  workers?: number;
  options?: Partial<AtlasOptions>;
}

export class AtlasLocalizer implements Localizer {
  readonly name = 'atlas';
  readonly options: AtlasOptions;
  /** Segments the structures whose templates carry contours (options.boxFromSegmentation). */
  readonly segmenter: AtlasSegmenter;
  constructor(
    private readonly opts: AtlasBackendOptions = {},
    readonly cache: TransformCache = new TransformCache(),
    segmenter?: AtlasSegmenter,
  ) {
    this.options = { ...DEFAULT_ATLAS_OPTIONS, ...opts.options };
    this.segmenter = segmenter ?? new AtlasSegmenter(opts, cache);
  }

  models(): ModelRef[] {
    return [];
  }

  async localize(req: LocalizeRequest): Promise<LocalizedStructure[]> {
    const ctx = { seriesUid: req.seriesUid, templateSet: req.templateSet };
    throwIfAborted(req.signal, ctx);
    for (const s of req.structures) {
      if (s.members.length === 0) throw new InputError(`structure ${s.name} has no template members`, { ...ctx, structure: s.name });
      for (const m of s.members) {
        if (m.points.length !== 6) throw new InputError(`template ${m.seriesUid} of ${s.name} has ${m.points.length} points, expected 6`, { ...ctx, structure: s.name });
      }
    }
    const query = sharedQuery(req.query);
    const selectOpts: SelectOptions = { onProgress: (message) => req.onProgress?.({ done: 0, total: 1, message }) };
    if (this.opts.workers !== undefined) selectOpts.workers = this.opts.workers;
    if (req.signal) selectOpts.signal = req.signal;
    const chosen = await selectTemplates(req.structures, query, req.seriesUid, this.options, this.cache, selectOpts);
    const groups = groupBySeries(chosen);
    // Structures whose every kept member has a mask are localized from the fused masks.
    const missing = new Set<string>();
    for (const g of groups) {
      for (const { structure, member } of g.members) {
        if (!missing.has(structure) && !(member.loadMask && (member.hasMask ?? (await member.loadMask()) !== undefined))) missing.add(structure);
      }
    }
    const withMasks = new Set(chosen.filter((c) => c.members.length > 0 && !missing.has(c.name)).map((c) => c.name));
    // Masks here only need the affine part: the demons refinement is the segmenter's. With boxes
    // from the segmented contours no mask is carried here (the points still give the confidence,
    // and the box of a structure whose contour comes out empty).
    const jobOptions: AtlasOptions = { ...this.options, demonsLevels: [], demonsIterations: [] };
    const masksOf = async (g: TemplateGroup): Promise<Map<string, Uint8Array> | undefined> => {
      if (this.options.boxFromSegmentation) return undefined;
      const map = new Map<string, Uint8Array>();
      for (const { structure, member } of g.members) {
        if (!withMasks.has(structure)) continue;
        const mask = await member.loadMask?.();
        if (mask) map.set(structure, mask);
      }
      return map.size > 0 ? map : undefined;
    };
    const jobs = lazyJobs(groups, query, req.seriesUid, jobOptions, this.cache, masksOf);
    let done = 0;
    const total = jobs.count;
    req.onProgress?.({ done, total, message: `registering ${total} template scan(s)` });
    const poolOpts: AtlasPoolOptions = {
      onJobProgress: (n, message, finished) => {
        if (finished) done++;
        req.onProgress?.({ done, total, message: finished ? `template ${groups[n]!.seriesUid} done` : `template ${groups[n]!.seriesUid}: ${message}` });
      },
    };
    if (this.opts.workers !== undefined) poolOpts.workers = this.opts.workers;
    if (req.signal) poolOpts.signal = req.signal;
    const results = await runAtlasJobs(jobs, TEMPLATE_JOBS, poolOpts);
    const axesBySeries = new Map(groups.map((g, n) => [g.seriesUid, results[n]!.templateDirection ? lpsAxesOf(results[n]!.templateDirection) : ([0, 1, 2] as [number, number, number])]));
    results.forEach((r, n) => this.cache.set(req.seriesUid, groups[n]!.seriesUid, this.options, r.transforms));
    const localized = fuseLocalizations(req, groups.map((g) => g.seriesUid), results, axesBySeries, this.options.fusionThreshold);
    if (!this.options.boxFromSegmentation || withMasks.size === 0) return localized;
    return this.fromSegmentation(req, localized, withMasks);
  }

  /**
   * The box and extreme points of every structure in `withMasks` from its segmented contour (the
   * registrations above are reused from the cache); an empty segmentation keeps the points' box.
   * Flags: the box's against the volume, and the contour's cut-off.
   */
  private async fromSegmentation(req: LocalizeRequest, localized: LocalizedStructure[], withMasks: Set<string>): Promise<LocalizedStructure[]> {
    const q = req.query;
    const segReq: Parameters<AtlasSegmenter['segmentAndHold']>[0] = {
      seriesUid: req.seriesUid,
      volume: q,
      structures: req.structures.filter((s) => withMasks.has(s.name)).map((s) => ({ name: s.name, boxes: [], members: s.members })),
    };
    if (req.signal) segReq.signal = req.signal;
    if (req.onProgress) segReq.onProgress = req.onProgress;
    const segmented = await this.segmenter.segmentAndHold(segReq);
    const extent = volumeExtent(q);
    const tol = Math.max(...q.spacing);
    return localized.map((l) => {
      const seg = segmented.find((x) => x.name === l.name);
      const box = seg && seg.voxels > 0 ? maskBoxLps(seg.mask, q) : undefined;
      const points = seg && box ? extremePointsFromLabels({ ...q, data: seg.mask }, 1) : undefined;
      if (!seg || !box || !points) return l;
      const flagged = flagBox(box, extent, tol, l.confidence);
      const flags = seg.flags.includes('cut-off') && !flagged.flags.includes('cut-off') ? [...flagged.flags, 'cut-off' as const] : flagged.flags;
      return { ...l, boxes: [flagged.box], extremePoints: points, flags, templates: seg.templates ?? l.templates ?? [] };
    });
  }
}

function volumeExtent(q: LocalizeRequest['query']): ReturnType<typeof volumeBox> {
  const [nx, ny, nz] = q.dims;
  const corners: Vec3[] = [];
  for (const i of [0, nx - 1]) for (const j of [0, ny - 1]) for (const k of [0, nz - 1]) corners.push(voxelToPatient(q, [i, j, k]));
  return volumeBox(corners);
}

function fuseLocalizations(
  req: LocalizeRequest,
  seriesOrder: string[],
  results: TemplateJobResult[],
  axesBySeries: Map<string, [number, number, number]>,
  threshold: number,
): LocalizedStructure[] {
  const q = req.query;
  const extent = volumeExtent(q);
  const tol = Math.max(...q.spacing);
  return req.structures.map((s) => {
    const sets: Vec3[][] = [];
    const nccs: number[] = [];
    const boxes = [];
    for (let n = 0; n < results.length; n++) {
      const r = results[n]!.structures.find((x) => x.name === s.name);
      if (!r) continue;
      sets.push(r.points);
      nccs.push(r.ncc);
      boxes.push(axesBySeries.get(seriesOrder[n]!) ?? [0, 1, 2]);
    }
    let fused = medianPoints(sets);
    // Pairs designate the template's axes; templates of one set share an orientation in practice,
    // so the first member's axis map is used for the fused points.
    let box = boxFromPoints(fused, (boxes[0] ?? [0, 1, 2]) as [number, number, number]);
    const confidence = confidenceOf(nccs, sets, fused);
    const everyMask = results.every((r) => r.structures.find((x) => x.name === s.name)?.mask !== undefined || !r.structures.some((x) => x.name === s.name));
    if (everyMask && results.some((r) => r.structures.find((x) => x.name === s.name)?.mask)) {
      const m = fuseMasks(s.name, q, results, threshold);
      const mbox = m.voxels > 0 ? maskBoxLps(m.mask, q) : undefined;
      const mpoints = m.voxels > 0 ? extremePointsFromLabels({ ...q, data: m.mask }, 1) : undefined;
      if (mbox && mpoints) {
        box = mbox;
        fused = mpoints;
      }
    }
    const flagged = flagBox(box, extent, tol, confidence);
    const templates = seriesOrder.filter((_, n) => results[n]!.structures.some((x) => x.name === s.name));
    return { name: s.name, boxes: [flagged.box], extremePoints: fused, confidence, flags: flagged.flags, templates };
  });
}
