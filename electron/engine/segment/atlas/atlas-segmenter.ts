/**
 * The weight-free segmenter: template masks are carried onto the query grid (local affine from the
 * localizer's registrations, then a local demons refinement around each structure) and fused by
 * averaging memberships (a majority vote when masks are binary: a voxel is in when at least half of
 * the templates put it there, the usual multi-atlas fusion of platipy and Iglesias & Sabuncu, Med
 * Image Anal 2015), by default weighted per voxel by the local NCC of each warped template CT with
 * the query. The fused membership is then a spatial prior for the query's own HU (intensity-refine.ts:
 * the posterior of an intensity model estimated on this query, thresholded at 0.5), and the result is
 * reduced to its largest connected component. Structures whose templates only have
 * extreme points cannot be propagated: the request is refused with a message that names them and
 * points to MedSAM.
 */
import { throwIfAborted, UnsupportedError } from '../../errors.js';
import type { TemplateMemberInput } from '../../localize/localizer.js';
import type { AtlasBackendOptions } from '../../localize/atlas/atlas-localizer.js';
import { buildJob, groupBySeries, sharedQuery, TransformCache } from '../../localize/atlas/templates.js';
import { runTemplateJobs } from '../../registration/pool.js';
import { DEFAULT_ATLAS_OPTIONS, type AtlasOptions, type TemplateJob, type TemplateJobResult } from '../../registration/template-job.js';
import type { ModelRef } from '../../localize/localizer.js';
import type { SegmentedStructure, Segmenter, SegmentRequest } from '../segmenter.js';
import { countNonZero } from '../../metrics/masks.js';
import { keepLargestComponents } from '../cleanup.js';
import { fusedMembership, fuseMasks } from './fuse-masks.js';
import { refineWithIntensity } from './intensity-refine.js';

export class AtlasSegmenter implements Segmenter {
  readonly name = 'atlas';
  readonly options: AtlasOptions;
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
    const ctx = { seriesUid: req.seriesUid };
    throwIfAborted(req.signal, ctx);
    // Load every member's mask first: which structures can be propagated decides whether to run.
    const masksBySeries = new Map<string, Map<string, Uint8Array>>();
    const pointsOnly: string[] = [];
    for (const s of req.structures) {
      let any = false;
      for (const m of s.members ?? []) {
        const mask = await loadMask(m);
        if (!mask) continue;
        any = true;
        let map = masksBySeries.get(m.seriesUid);
        if (!map) masksBySeries.set(m.seriesUid, (map = new Map()));
        map.set(s.name, mask);
      }
      if (!any) pointsOnly.push(s.name);
    }
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
      members: (s.members ?? []).filter((m) => masksBySeries.get(m.seriesUid)?.has(s.name)),
    }));
    const groups = groupBySeries(withMasks);
    const query = sharedQuery(req.volume);
    const jobs: TemplateJob[] = [];
    for (const g of groups) jobs.push(await buildJob(g, query, req.seriesUid, this.options, this.cache, masksBySeries.get(g.seriesUid)));
    let done = 0;
    const total = jobs.length;
    req.onProgress?.({ done, total, message: `propagating contours from ${total} template scan(s)` });
    const poolOpts: Parameters<typeof runTemplateJobs>[1] = {
      onJobProgress: (n, message, finished) => {
        if (finished) done++;
        req.onProgress?.({ done, total, message: finished ? `template ${groups[n]!.seriesUid} done` : `template ${groups[n]!.seriesUid}: ${message}` });
      },
    };
    if (this.opts.workers !== undefined) poolOpts.workers = this.opts.workers;
    if (req.signal) poolOpts.signal = req.signal;
    const results: TemplateJobResult[] = await runTemplateJobs(jobs, poolOpts);
    results.forEach((r, n) => this.cache.set(req.seriesUid, groups[n]!.seriesUid, this.options, r.transforms));
    const o = this.options;
    return req.structures.map((s) => {
      const beta = o.fusionLocalSigmaMm > 0 ? o.fusionLocalBeta : 0;
      const membership = fusedMembership(s.name, req.volume, results, beta);
      if (o.intensityRefine) refineWithIntensity(membership, req.volume.data, { binHu: o.intensityBinHu, smoothHu: o.intensitySmoothHu });
      const fused = fuseMasks(s.name, req.volume, results, o.intensityRefine ? o.intensityThreshold : o.fusionThreshold, beta, membership);
      if (o.fusionLargestComponent && fused.voxels > 0) {
        keepLargestComponents(fused.mask, [...req.volume.dims], 1);
        fused.voxels = countNonZero(fused.mask);
        fused.volumeCc = (fused.voxels * req.volume.spacing[0] * req.volume.spacing[1] * req.volume.spacing[2]) / 1000;
      }
      return fused;
    });
  }
}

async function loadMask(m: TemplateMemberInput): Promise<Uint8Array | undefined> {
  if (!m.loadMask) return undefined;
  return m.loadMask();
}
