/**
 * The weight-free segmenter: template masks are carried onto the query grid (local affine from the
 * localizer's registrations, then a local demons refinement around each structure) and fused by
 * averaging memberships (a majority vote when masks are binary: a voxel is in when at least half of
 * the templates put it there, the usual multi-atlas fusion of platipy and Iglesias & Sabuncu, Med
 * Image Anal 2015), by default weighted per voxel by the local NCC of each warped template CT with
 * the query. The fused membership is then a spatial prior for the query's own HU (intensity-refine.ts:
 * the posterior of an intensity model estimated on this query, thresholded at 0.5), and the result is
 * reduced to its largest connected component (fuse-structure.ts; one structure per worker thread).
 * Structures whose templates only have
 * extreme points cannot be propagated: the request is refused with a message that names them and
 * points to MedSAM.
 */
import { InputError, throwIfAborted, UnsupportedError } from '../../errors.js';
import type { TemplateMemberInput } from '../../localize/localizer.js';
import type { AtlasBackendOptions } from '../../localize/atlas/atlas-localizer.js';
import { groupBySeries, lazyJobs, selectTemplates, sharedQuery, TransformCache, type TemplateGroup } from '../../localize/atlas/templates.js';
import { runAtlasJobs, TEMPLATE_JOBS, type AtlasPoolOptions } from '../../localize/atlas/atlas-pool.js';
import { DEFAULT_ATLAS_OPTIONS, type AtlasOptions, type TemplateJobResult } from '../../registration/template-job.js';
import type { ModelRef } from '../../localize/localizer.js';
import type { SegmentedStructure, Segmenter, SegmentRequest } from '../segmenter.js';
import { maskIndexBox, type IndexBox } from '../../metrics/masks.js';
import type { Vec3 } from '../../volume/geometry.js';
import { FUSE_JOBS, fuseJob, fuseStructure } from './fuse-structure.js';
import { segmentationGrid } from './segmentation-grid.js';

/** A segmentation kept between localize and segment, cropped to its bounding box. */
interface Held {
  key: string;
  volume: WeakRef<SegmentRequest['volume']>;
  structure: Omit<SegmentedStructure, 'mask'>;
  crop: { lo: Vec3; dims: Vec3; mask: Uint8Array } | undefined;
}

export class AtlasSegmenter implements Segmenter {
  readonly name = 'atlas';
  readonly options: AtlasOptions;
  /** Per structure, the last query's segmentation made for the localizer (options.boxFromSegmentation). */
  private held = new Map<string, Held>();
  private heldSeries: string | undefined;
  constructor(
    private readonly opts: AtlasBackendOptions = {},
    readonly cache: TransformCache = new TransformCache(),
  ) {
    this.options = { ...DEFAULT_ATLAS_OPTIONS, ...opts.options };
  }

  models(): ModelRef[] {
    return [];
  }

  async segment(req: SegmentRequest): Promise<SegmentedStructure[]> {
    // Structures the localizer already segmented on this very volume with the same templates and
    // options are taken (once) from what it kept; the rest are propagated and fused now.
    const taken = new Map<string, SegmentedStructure>();
    for (const s of req.structures) {
      const h = this.held.get(s.name);
      if (h && h.volume.deref() === req.volume && h.key === this.heldKey(req.seriesUid, s)) taken.set(s.name, restore(h, req.volume));
      this.held.delete(s.name);
    }
    const rest = req.structures.filter((s) => !taken.has(s.name));
    if (rest.length > 0) {
      // A query finer than segmentationSpacingMm is segmented on a coarser grid, each contour then
      // carried back to the query's own grid (segmentation-grid.ts).
      const grid = segmentationGrid(req.volume, this.options.segmentationSpacingMm);
      const { results, chosen, query } = await this.propagate({ ...req, volume: grid ?? req.volume, structures: rest });
      // One structure per worker: fusion is a third of a query's time on two cores otherwise.
      // The shared query copy travels to the workers without a copy.
      let fusedCount = 0;
      const poolOpts: AtlasPoolOptions = {
        onJobProgress: (n, _message, finished) => {
          if (finished) req.onProgress?.({ done: ++fusedCount, total: rest.length, message: `${rest[n]!.name} fused` });
        },
      };
      if (this.opts.workers !== undefined) poolOpts.workers = this.opts.workers;
      if (req.signal) poolOpts.signal = req.signal;
      const fusedList = await runAtlasJobs(rest.map((s) => fuseJob(s.name, query, results, this.options, grid ? req.volume : undefined)), FUSE_JOBS, poolOpts);
      rest.forEach((s, n) => {
        const fused = fusedList[n]!;
        fused.templates = chosen.find((c) => c.name === s.name)?.members.map((m) => m.seriesUid) ?? [];
        taken.set(s.name, fused);
      });
    }
    return req.structures.map((s) => taken.get(s.name)!);
  }

  /**
   * Segments like `segment` and keeps each result (cropped to its bounding box) for the next
   * `segment` of the same volume: the atlas localizer takes its boxes from these contours, and a
   * localize + segment run then registers and fuses once. Only the last series is kept.
   */
  async segmentAndHold(req: SegmentRequest): Promise<SegmentedStructure[]> {
    if (this.heldSeries !== req.seriesUid) this.held.clear();
    this.heldSeries = req.seriesUid;
    const out = await this.segment(req);
    out.forEach((seg, n) => {
      const { mask, ...structure } = seg;
      const ib = seg.voxels > 0 ? maskIndexBox(mask, [...req.volume.dims]) : undefined;
      this.held.set(seg.name, {
        key: this.heldKey(req.seriesUid, req.structures[n]!),
        volume: new WeakRef(req.volume),
        structure,
        crop: ib ? cropMask(mask, [...req.volume.dims], ib) : undefined,
      });
    });
    return out;
  }

  private heldKey(seriesUid: string, s: SegmentRequest['structures'][number]): string {
    return JSON.stringify([seriesUid, (s.members ?? []).map((m) => m.seriesUid), this.options]);
  }

  /**
   * Selection and registration: every chosen template's masks carried onto the query grid (one
   * result per template series). Separate from `fuse` so that fusions can be compared on the same
   * registrations (npm run bench -- atlas-fusion).
   */
  async propagate(req: SegmentRequest): Promise<{ results: TemplateJobResult[]; chosen: { name: string; members: TemplateMemberInput[] }[]; query: SegmentRequest['volume'] }> {
    const ctx = { seriesUid: req.seriesUid };
    throwIfAborted(req.signal, ctx);
    // Which members have a mask decides which structures can be propagated. The archive says so
    // (member.hasMask); otherwise masks are loaded here only to check, and again when their
    // template's job is built (memory stays flat in the library), one template series after another:
    // a store that reads a scan's label map once serves all its structures in a row.
    const hasMask = new Set<string>();
    for (const g of groupBySeries(req.structures)) {
      for (const { structure, member } of g.members) if (member.hasMask ?? (await loadMask(member)) !== undefined) hasMask.add(`${member.seriesUid}\u0000${structure}`);
    }
    const pointsOnly = req.structures.filter((s) => !(s.members ?? []).some((m) => hasMask.has(`${m.seriesUid}\u0000${s.name}`))).map((s) => s.name);
    if (pointsOnly.length > 0) {
      throw new UnsupportedError(
        `atlas segmentation propagates template contours, but the templates of ${pointsOnly.join(', ')} have only extreme points: ` +
          'derive those templates from contours (template derive) or segment them with MedSAM (--backend medsam)',
        { ...ctx, structure: pointsOnly.join(', ') },
      );
    }
    // Only members with masks vote.
    const withMasks = req.structures.map((s) => ({
      name: s.name,
      members: (s.members ?? []).filter((m) => hasMask.has(`${m.seriesUid}\u0000${s.name}`)),
    }));
    const query = sharedQuery(req.volume);
    const selectOpts: Parameters<typeof selectTemplates>[5] = { onProgress: (message) => req.onProgress?.({ done: 0, total: 1, message }) };
    if (this.opts.workers !== undefined) selectOpts.workers = this.opts.workers;
    if (req.signal) selectOpts.signal = req.signal;
    const chosen = await selectTemplates(withMasks, query, req.seriesUid, this.options, this.cache, selectOpts);
    const groups = groupBySeries(chosen);
    const masksOf = async (g: TemplateGroup): Promise<Map<string, Uint8Array>> => {
      const map = new Map<string, Uint8Array>();
      for (const { structure, member } of g.members) {
        const mask = await loadMask(member);
        if (!mask) throw new InputError(`template mask of ${structure} on series ${g.seriesUid} disappeared while segmenting`, { ...ctx, structure });
        map.set(structure, mask);
      }
      return map;
    };
    const jobs = lazyJobs(groups, query, req.seriesUid, this.options, this.cache, masksOf);
    let done = 0;
    const total = jobs.count;
    req.onProgress?.({ done, total, message: `propagating contours from ${total} template scan(s)` });
    const poolOpts: AtlasPoolOptions = {
      onJobProgress: (n, message, finished) => {
        if (finished) done++;
        req.onProgress?.({ done, total, message: finished ? `template ${groups[n]!.seriesUid} done` : `template ${groups[n]!.seriesUid}: ${message}` });
      },
    };
    if (this.opts.workers !== undefined) poolOpts.workers = this.opts.workers;
    if (req.signal) poolOpts.signal = req.signal;
    const results: TemplateJobResult[] = await runAtlasJobs(jobs, TEMPLATE_JOBS, poolOpts);
    results.forEach((r, n) => this.cache.set(req.seriesUid, groups[n]!.seriesUid, this.options, r.transforms));
    return { results, chosen, query };
  }

  /**
   * One structure's fused mask from the propagated templates (fuse-structure.ts) on this thread.
   * `options` defaults to the segmenter's (a benchmark passes variants).
   */
  fuse(name: string, volume: SegmentRequest['volume'], results: TemplateJobResult[], o: AtlasOptions = this.options): SegmentedStructure {
    return fuseStructure({ name, volume, results, options: o });
  }
}

function cropMask(mask: Uint8Array, dims: Vec3, ib: IndexBox): NonNullable<Held['crop']> {
  const cd: Vec3 = [ib.hi[0] - ib.lo[0] + 1, ib.hi[1] - ib.lo[1] + 1, ib.hi[2] - ib.lo[2] + 1];
  const out = new Uint8Array(cd[0] * cd[1] * cd[2]);
  for (let k = 0; k < cd[2]; k++) {
    for (let j = 0; j < cd[1]; j++) {
      const from = ib.lo[0] + dims[0] * (ib.lo[1] + j + dims[1] * (ib.lo[2] + k));
      out.set(mask.subarray(from, from + cd[0]), cd[0] * (j + cd[1] * k));
    }
  }
  return { lo: ib.lo, dims: cd, mask: out };
}

function restore(h: Held, volume: SegmentRequest['volume']): SegmentedStructure {
  const [nx, ny, nz] = volume.dims;
  const mask = new Uint8Array(nx * ny * nz);
  const c = h.crop;
  if (c) {
    for (let k = 0; k < c.dims[2]; k++) {
      for (let j = 0; j < c.dims[1]; j++) {
        const at = c.dims[0] * (j + c.dims[1] * k);
        mask.set(c.mask.subarray(at, at + c.dims[0]), c.lo[0] + nx * (c.lo[1] + j + ny * (c.lo[2] + k)));
      }
    }
  }
  return { ...h.structure, mask };
}

async function loadMask(m: TemplateMemberInput): Promise<Uint8Array | undefined> {
  if (!m.loadMask) return undefined;
  return m.loadMask();
}
