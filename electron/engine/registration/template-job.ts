/**
 * One template CT against one query CT: the unit of work the atlas backend farms out to worker
 * threads. Global rigid -> affine registration, then per structure a local affine registration in a
 * box around the structure (the head and neck bends at the neck, so one affine cannot fit the
 * brainstem and the larynx at once), then the structure's points and, when asked, its mask are
 * carried to the query (the mask through a local demons refinement).
 */
import type { Vec3 } from '../volume/geometry.js';
import type { Volume } from '../volume/volume.js';
import { registerAffine } from './affine.js';
import { blockMatchPoint } from './block-match.js';
import { registerDemons, type DisplacementField } from './demons.js';
import { clipNormalize, cropImage, downsample, Pyramid, type Image } from './image.js';
import type { Mat34 } from './transform.js';
import { localNcc } from './local-ncc.js';
import { nccInRegion, regionOfPoints } from './select.js';
import { cropForTemplateMask, mapPointToQuery, warpImage, warpMask, type GridCrop, type WarpedMask } from './warp.js';

export interface AtlasOptions {
  /**
   * Registration works on copies of the CTs resampled to at least this spacing (mm): every level of
   * the pyramids is coarser anyway, and a 512 x 512 x 200 clinical CT would otherwise cost several
   * full-resolution float copies per worker. Masks are still produced on the query's own grid.
   */
  workingSpacingMm: number;
  /** HU window for the affine metric (NCC), clipped then scaled to [0, 1]. */
  clipHu: [number, number];
  /** Pyramid (mm) of the global registration. */
  globalLevels: number[];
  /** Pyramid (mm) of the per-structure local registration. */
  localLevels: number[];
  /** Margin (mm) around a structure's mapped box that the local registration sees. */
  localMarginMm: number;
  /**
   * Refine mapped points by block matching (radius and search in mm; 0 disables). Off by default:
   * on OpenKBP leave-one-out it gave mean box IoU 0.537 (radius 10, search 8) against 0.544 without.
   */
  blockRadiusMm: number;
  blockSearchMm: number;
  /**
   * Demons pyramid (mm) and iterations per level for mask propagation; [] = affine only. OpenKBP
   * leave-one-out, mean Dice: affine only 0.656, [6] x 30 0.661, [6, 3] x [30, 20] 0.668 at about
   * 7x the segmentation time of [6]; the default keeps a query within a minute on two cores.
   */
  demonsLevels: number[];
  demonsIterations: number[];
  /** How each demons iteration's update joins the field (demons.ts DemonsOptions.update). */
  demonsUpdate: 'additive' | 'compositive';
  /** HU window of the demons force (soft tissue contrast matters there more than bone). */
  demonsClipHu: [number, number];
  /** Gaussian sigma (voxels of each demons level) on each update (fluid) and on the field (diffusion). */
  demonsSigmaFluid: number;
  demonsSigmaDiff: number;
  /** Fused membership at or above which a voxel is in the structure (0.5: majority vote; 0.4
   * measured better on OpenKBP leave-one-out, mean Dice 0.668 vs 0.639: registration errors shrink
   * the overlap of the templates more often than they grow it). */
  fusionThreshold: number;
  /**
   * Locally weighted fusion: each template's membership is weighted per voxel by exp(beta * lncc),
   * lncc the local NCC (Gaussian window, sigma in mm, on fusionLocalClipHu) of its warped CT with
   * the query. Sigma 0 = plain average.
   */
  fusionLocalSigmaMm: number;
  fusionLocalClipHu: [number, number];
  fusionLocalBeta: number;
  /**
   * Contours are computed on a grid no finer than this (mm per axis; segment/atlas/segmentation-grid.ts)
   * and their posterior interpolated onto the query's grid: on a clinical CT of 1 mm pixels warping,
   * similarity maps and fusion otherwise cost 4 to 16 times as much. 0 = always the query's grid.
   */
  segmentationSpacingMm: number;
  /** Keep only the fused mask's largest 6-connected component (drops stray islands of one template). */
  fusionLargestComponent: boolean;
  /**
   * 'local': locally weighted voting (fusionLocal*); 'joint': joint label fusion
   * (segment/atlas/joint-fusion.ts, Wang et al., IEEE TPAMI 2013) with the joint* settings.
   */
  fusionMethod: 'local' | 'joint';
  /** Joint label fusion: patch radius (mm), exponent beta, ridge alpha (relative), HU window and unit. */
  jointPatchRadiusMm: number;
  jointBeta: number;
  jointAlpha: number;
  jointClipHu: [number, number];
  jointUnitHu: number;
  jointSearchMm: number;
  jointNonNegative: boolean;
  /** Share of joint label fusion in the membership; the rest is the locally weighted vote. */
  jointMix: number;
  /**
   * Refine the fused membership with the query's own HU (segment/atlas/intensity-refine.ts): the
   * membership becomes a prior, the posterior is thresholded at intensityThreshold (0.5: the more
   * probable label) instead of fusionThreshold.
   */
  intensityRefine: boolean;
  intensityBinHu: number;
  intensitySmoothHu: number;
  intensityThreshold: number;
  /**
   * Atlas selection (select.ts): per structure, only the templates whose globally aligned
   * neighbourhood of the structure best matches the query (NCC) go on to the local and deformable
   * stages; 0 keeps every template.
   */
  selectTopK: number;
  /**
   * At most this many distinct templates per query (select.ts capTemplates: the best by mean
   * score over the structures), each structure's top-k taken among them (others only when fewer
   * than k of them annotate the structure); 0 = no cap.
   */
  selectMaxTemplates: number;
  /**
   * Pyramid (mm) of the ranking stage's global registration, run for every template of the
   * library: the first, coarsest level(s) of globalLevels cost a fraction of the whole stage, so
   * ranking 25 templates costs little more than ranking 5; the full global stage then runs only
   * for the templates chosen. [] ranks after the full global stage (every template registered in
   * full, the cost growing with the library).
   */
  rankLevels: number[];
  /**
   * Structures whose templates all carry contours are localized from the segmenter's result (its
   * deformable registration, fusion and refinement) rather than from affinely carried masks: the
   * box and extreme points are the final contour's. The segmentation is kept for the segmenter, so
   * a localize + segment run computes it once.
   */
  boxFromSegmentation: boolean;
}

export const DEFAULT_ATLAS_OPTIONS: AtlasOptions = {
  workingSpacingMm: 2,
  clipHu: [-200, 1500],
  globalLevels: [12, 8, 5],
  // One level: the local stage starts from the global affine. OpenKBP leave-one-out: [5] gave box
  // IoU 0.579 / Dice 0.664 in 36x a rigid registration's time per query, [8, 5] 0.578 / 0.661 in 57x.
  // A +-20 mm translation search before the local affine raised the local NCC where the global
  // affine had failed (larynx) but not the Dice (0.699 against 0.700): label conventions differ
  // more than anatomy there. Not kept.
  localLevels: [5],
  localMarginMm: 25,
  blockRadiusMm: 0,
  blockSearchMm: 8,
  // With the fusion and refinement below (mean Dice 0.700): [6, 4] x [30, 20] 0.700 and
  // [6, 4] x [50, 30] 0.697 at twice the segmentation time, [8] x 40 0.680; a soft-tissue force
  // window [-150, 250] 0.694, [-400, 400] 0.698. Again with k = 7 and joint fusion (npm run bench --
  // atlas-fusion, the 6 openkbp tuning patients, mean Dice 0.732 / HD95 8.1 mm): [6, 4] x [30, 20]
  // 0.735 / 7.5 mm at about 1.25x the registration time; the same with compositive updates and a
  // field sigma of 1 voxel 0.731 / 8.4 mm. Neither kept: within what 6 patients can tell apart.
  demonsLevels: [6],
  demonsIterations: [30],
  demonsUpdate: 'additive',
  demonsClipHu: [-200, 1500],
  demonsSigmaFluid: 1,
  demonsSigmaDiff: 1.5,
  fusionThreshold: 0.4,
  // OpenKBP leave-one-out, mean Dice at cut-off 0.4: plain average 0.664; sigma 6 mm, beta 3 / 6:
  // 0.680 / 0.677, and with the largest component kept 0.683 / 0.684 (beta 12: 0.680); sigma 10 mm
  // or a soft-tissue window ([-160, 240], sigma 5) no better (best 0.681 / 0.683). Beta and sigma
  // were picked on the same 6 queries; choosing beta, cut-off and clean-up on 3 and scoring the
  // other 3 (both ways) gives 0.682 to 0.684 depending on the grid searched.
  fusionLocalSigmaMm: 6,
  fusionLocalClipHu: [-200, 1500],
  fusionLocalBeta: 6,
  fusionLargestComponent: true,
  // Set, not tuned: OpenKBP's grids (3.9-5.1 mm pixels, 2.5-3 mm slices) are never finer, so the
  // benchmark's contours are computed on the query grid as before.
  segmentationSpacingMm: 2,
  // Joint label fusion, chosen by npm run bench -- atlas-fusion on the openkbp patients pt_4, 13, 17
  // as queries (library: the other 25 OpenKBP patients, top 5 selected; the same registrations for
  // every variant). Mean Dice / HD95 (mm) / surface Dice 2 mm: locally weighted voting 0.763 / 8.6 /
  // 0.575; joint fusion alone (alpha 0.3, search 3 mm) 0.763 / 7.6 / 0.575; half joint, half
  // locally weighted 0.779 / 7.6 / 0.594 (mix 0.3 / 0.7: 0.777 / 0.774; alpha 1: 0.779). On pt_4
  // alone: without local search at most 0.734 (alpha 0.01-10, beta 1-4, patch 2-6 mm, soft-tissue
  // window), search 6-8 mm 0.720-0.730, patch 3 / 8 mm 0.741 / 0.711, weights clamped to >= 0 no
  // different. Joint fusion gains on the esophagus and larynx, the vote on the parotids.
  fusionMethod: 'joint',
  jointPatchRadiusMm: 6,
  jointBeta: 2,
  jointAlpha: 0.3,
  jointClipHu: [-200, 1500],
  jointUnitHu: 100,
  jointSearchMm: 3,
  jointNonNegative: false,
  jointMix: 0.5,
  // Set before measuring, not tuned: 10 HU bins, 20 HU smoothing, the MAP cut-off 0.5. OpenKBP
  // leave-one-out, mean Dice 0.684 -> 0.700 (3 templates: 0.649 -> 0.666). Variants measured on the
  // same queries: 10-40 HU smoothing 0.699-0.701; cut-off 0.4-0.5 with prior^0.5-1 and one or two EM
  // passes 0.662-0.705 (low cut-offs with a softened prior let the mandible leak into neighbouring
  // bone); a Potts (MRF) neighbourhood term 0.687-0.697 (it thins the esophagus).
  intensityRefine: true,
  intensityBinHu: 10,
  intensitySmoothHu: 20,
  intensityThreshold: 0.5,
  // k = 5: the library size every setting above was measured with (OpenKBP leave-one-out over 6
  // patients, 5 templates each), set before measuring selection, not tuned; a smaller library keeps
  // all its templates. Measured after the fact (npm run bench -- atlas, library 25 of the 26 OpenKBP
  // patients, leave-one-out on 6 queries: 4, 13, 17 from openkbp, 100, 132, 200 from the library):
  // mean Dice 0.743, box IoU 0.584; the curve on pt_100 for a library of 1/3/5/10 templates:
  // 0.663/0.736/0.758/0.769 (25: 0.756).
  // Then k = 7 (every capped template fuses every structure), chosen on the 6 openkbp patients
  // (library: the other 25; npm run bench -- atlas-fusion --options '{"selectTopK":7}'): mean Dice
  // 0.715 -> 0.732, esophagus 0.511 -> 0.587, every structure but the brainstem higher; k = 7 with a
  // cap of 9 gave 0.726. It costs about a fifth more time per query (more deformable registrations).
  selectTopK: 7,
  // 7 = k + 2 for k = 5, set before measuring. Per-structure top-5 alone chose 9 distinct templates of 10 and
  // 13-14 of 25 (query pt_4). pt_4 against the other 25 (npm run bench -- atlas --queries 4,
  // shared machine): ranking after the full global stage, no cap: mean Dice 0.739, 103 CPU s,
  // 14 templates; coarse ranking, cap 7: 0.739, 87 CPU s, 7 templates.
  selectMaxTemplates: 7,
  // The coarsest global level only (see rankLevels above).
  rankLevels: [12],
  // OpenKBP leave-one-out on the 6 openkbp patients (library: the other 25; npm run bench -- atlas
  // --queries 4,13,17,22,31,34), mean box IoU of the affinely carried masks' box 0.557, of the
  // segmented contour's box 0.613 (brainstem 0.685 -> 0.631, every other structure higher). Chosen
  // on those 6 as a whole, not per structure.
  boxFromSegmentation: true,
};

export interface JobStructure {
  name: string;
  /** Six template points (LPS mm), ordered per template volume axis. */
  points: Vec3[];
  /** The structure's mask on the template grid (segmentation only). */
  mask?: Uint8Array;
}

/** Transforms already found for this (query, template) pair: registration is the costly part. */
export interface KnownTransforms {
  global: Mat34;
  globalNcc: number;
  local: Record<string, { matrix: Mat34; ncc: number }>;
  /** Selection score per structure (select.ts nccInRegion after the ranking stage's global alignment). */
  rank?: Record<string, number>;
  /**
   * `global` is only the ranking stage's coarse alignment (options.rankLevels): a job that needs
   * the transforms runs the full global stage first.
   */
  coarse?: boolean;
}

export interface TemplateJob {
  query: Volume<Float32Array>;
  template: Volume<Float32Array>;
  structures: JobStructure[];
  wantMasks: boolean;
  options: AtlasOptions;
  known?: KnownTransforms;
  /** Only the global stage and the selection scores: `structures` of the result is empty. */
  rankOnly?: boolean;
  /**
   * Names this query's voxels uniquely (one per query copy): consecutive jobs on a thread with the
   * same key reuse the query's working copy and pyramid instead of rebuilding them per template.
   */
  queryKey?: string;
}

interface PreparedQuery {
  key: string | undefined;
  qWork: Image;
  q: Image;
  pyramid: Pyramid;
}

/** The last query prepared on this thread (one entry: a thread serves one query at a time). */
let lastQuery: PreparedQuery | undefined;

function preparedQuery(job: TemplateJob): PreparedQuery {
  const o = job.options;
  const key = job.queryKey === undefined ? undefined : `${job.queryKey}\u0000${o.workingSpacingMm}\u0000${o.clipHu.join(',')}`;
  if (key !== undefined && lastQuery?.key === key) return lastQuery;
  const qWork = downsample(job.query, o.workingSpacingMm);
  const q = clipNormalize(qWork, o.clipHu[0], o.clipHu[1]);
  const prepared: PreparedQuery = { key, qWork, q, pyramid: new Pyramid(q) };
  lastQuery = key === undefined ? undefined : prepared;
  return prepared;
}

export interface JobStructureResult {
  name: string;
  /** The six points carried to the query (LPS mm), same order as the template's. */
  points: Vec3[];
  /** NCC of the local registration, -1..1. */
  ncc: number;
  mask?: WarpedMask;
}

export interface TemplateJobResult {
  transforms: KnownTransforms;
  /** The template's direction cosines (which LPS axis each template axis runs along). */
  templateDirection?: Volume['direction'];
  structures: JobStructureResult[];
  ms: number;
}

export type JobProgress = (message: string) => void;

/** Runs the job; `checkpoint` is called between iterations and throws to cancel. */
export function runTemplateJob(job: TemplateJob, checkpoint?: () => void, progress?: JobProgress): TemplateJobResult {
  const t0 = Date.now();
  const o = job.options;
  const { qWork, q, pyramid: qPyramid } = preparedQuery(job);
  const tWork = downsample(job.template, o.workingSpacingMm);
  const t = clipNormalize(tWork, o.clipHu[0], o.clipHu[1]);
  // One pyramid per image for every registration of this pair (global, each local, demons).
  const pyramids = { fixed: qPyramid, moving: new Pyramid(t) };
  let known = job.known;
  if (job.rankOnly && !known && o.rankLevels.length > 0) {
    progress?.('coarse global registration (ranking)');
    const g = registerAffine(q, t, { levels: o.rankLevels, checkpoint, pyramids });
    known = { global: g.matrix, globalNcc: g.ncc, local: {}, coarse: true };
  }
  if (!known || (known.coarse && !job.rankOnly)) {
    progress?.('global affine registration');
    const g = registerAffine(q, t, { levels: o.globalLevels, checkpoint, pyramids });
    const next: KnownTransforms = { global: g.matrix, globalNcc: g.ncc, local: {} };
    if (known?.rank) next.rank = known.rank;
    known = next;
  }
  if (job.rankOnly) {
    const rank: Record<string, number> = { ...known.rank };
    for (const s of job.structures) rank[s.name] ??= nccInRegion(q, t, known.global, regionOfPoints(s.points, known.global, o.localMarginMm));
    known.rank = rank;
    return { transforms: known, templateDirection: job.template.direction, structures: [], ms: Date.now() - t0 };
  }
  const out: JobStructureResult[] = [];
  let dq: Image | undefined;
  let dt: Image | undefined;
  let dtPyramid: Pyramid | undefined;
  for (const s of job.structures) {
    checkpoint?.();
    let local = known.local[s.name];
    if (!local) {
      progress?.(`local registration: ${s.name}`);
      const region = regionOfPoints(s.points, known.global, o.localMarginMm);
      const r = registerAffine(q, t, { init: known.global, region, levels: o.localLevels, checkpoint, pyramids });
      local = { matrix: r.matrix, ncc: r.ncc };
      known.local[s.name] = local;
    }
    const res: JobStructureResult = { name: s.name, points: [], ncc: local.ncc };
    let field: DisplacementField | undefined;
    if (job.wantMasks && s.mask) {
      const crop = cropForTemplateMask(s.mask, job.template, local.matrix, job.query, o.localMarginMm);
      if (crop) {
        if (o.demonsLevels.length > 0) {
          progress?.(`deformable registration: ${s.name}`);
          const sameWindow = o.demonsClipHu[0] === o.clipHu[0] && o.demonsClipHu[1] === o.clipHu[1];
          dq ??= sameWindow ? q : clipNormalize(qWork, o.demonsClipHu[0], o.demonsClipHu[1]);
          dt ??= sameWindow ? t : clipNormalize(tWork, o.demonsClipHu[0], o.demonsClipHu[1]);
          dtPyramid ??= sameWindow ? pyramids.moving : new Pyramid(dt);
          // The demons domain: the structure's crop of the query grid, on the working grid.
          const wc = cropForTemplateMask(s.mask, job.template, local.matrix, dq, o.localMarginMm) ?? { lo: [0, 0, 0] as Vec3, dims: [...dq.dims] as Vec3 };
          field = registerDemons(cropImage(dq, wc.lo, wc.dims), dt, local.matrix, {
            levels: o.demonsLevels,
            iterations: o.demonsIterations,
            checkpoint,
            movingPyramid: dtPyramid,
            update: o.demonsUpdate,
            sigmaFluid: o.demonsSigmaFluid,
            sigmaDiff: o.demonsSigmaDiff,
          });
        }
        res.mask = warpMask(s.mask, job.template, local.matrix, field, job.query, crop);
        if (o.fusionLocalSigmaMm > 0 || o.fusionMethod === 'joint') Object.assign(res.mask, similarityOnCrop(job, local.matrix, field, crop));
      }
    }
    res.points = s.points.map((p) => mapPointToQuery(p, local.matrix, field));
    if (o.blockRadiusMm > 0) {
      res.points = res.points.map((p, n) => blockMatchPoint(q, t, local.matrix, p, s.points[n]!, o.blockRadiusMm, o.blockSearchMm));
    }
    out.push(res);
  }
  return { transforms: known, templateDirection: job.template.direction, structures: out, ms: Date.now() - t0 };
}

/**
 * The warped template CT on the mask's crop (HU, for joint label fusion) and its local NCC
 * (0..255 for -1..1) with the query (locally weighted fusion).
 */
function similarityOnCrop(job: TemplateJob, affine: Mat34, field: DisplacementField | undefined, crop: GridCrop): { similarity: Uint8Array; intensity: Int16Array } {
  const o = job.options;
  const [lo, hi] = o.fusionLocalClipHu;
  const clip = (x: number): number => (x <= lo ? 0 : x >= hi ? 1 : (x - lo) / (hi - lo));
  const t = warpImage(job.template, affine, field, job.query, crop, -1024);
  const intensity = new Int16Array(t.length);
  for (let n = 0; n < t.length; n++) intensity[n] = Math.max(-32768, Math.min(32767, Math.round(t[n]!)));
  const q = cropImage(job.query, crop.lo, crop.dims).data;
  for (let n = 0; n < t.length; n++) {
    t[n] = clip(t[n]!);
    q[n] = clip(q[n]!);
  }
  const sigma = job.query.spacing.map((s) => o.fusionLocalSigmaMm / s) as Vec3;
  const l = localNcc(q, t, crop.dims, sigma);
  const out = new Uint8Array(l.length);
  for (let n = 0; n < l.length; n++) out[n] = Math.round(127.5 * (Math.max(-1, Math.min(1, l[n]!)) + 1));
  return { similarity: out, intensity };
}
