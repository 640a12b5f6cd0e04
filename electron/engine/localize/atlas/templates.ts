/**
 * Shared plumbing of the atlas localizer and segmenter: template members grouped by template series
 * (one registration per template scan serves every structure it annotates), the query copied once
 * into shared memory for the worker threads, and a per-backend cache of the transforms found, so
 * that `segment` after `localize` on the same series does not register again.
 */
import { InputError } from '../../errors.js';
import type { Volume } from '../../volume/volume.js';
import type { KnownTransforms, JobStructure, TemplateJob, AtlasOptions } from '../../registration/template-job.js';
import type { TemplateMemberInput } from '../localizer.js';
import type { LazyJobs } from '../../registration/pool.js';
import { runAtlasJobs, TEMPLATE_JOBS, type AtlasPoolOptions } from './atlas-pool.js';
import { capTemplates, topK } from '../../registration/select.js';

export interface TemplateGroup {
  seriesUid: string;
  loadVolume: TemplateMemberInput['loadVolume'];
  members: { structure: string; member: TemplateMemberInput }[];
}

export function groupBySeries(structures: { name: string; members?: TemplateMemberInput[] }[]): TemplateGroup[] {
  const groups = new Map<string, TemplateGroup>();
  for (const s of structures) {
    for (const m of s.members ?? []) {
      let g = groups.get(m.seriesUid);
      if (!g) {
        g = { seriesUid: m.seriesUid, loadVolume: m.loadVolume, members: [] };
        groups.set(m.seriesUid, g);
      }
      g.members.push({ structure: s.name, member: m });
    }
  }
  return [...groups.values()];
}

/**
 * The query's voxels in a SharedArrayBuffer: every worker reads the same memory, no copies. The
 * same volume object gets the same copy (and key) while that copy is still referenced, so the runs
 * of one query (localize, then segment) find the query's working copy and pyramid already prepared
 * in the pool's workers; a volume's voxels do not change once it is loaded.
 */
export function sharedQuery(q: Volume): Volume<Float32Array> {
  const known = sharedCopies.get(q)?.deref();
  if (known && known.data.length === q.data.length) return known;
  const data = new Float32Array(new SharedArrayBuffer(q.data.length * 4));
  data.set(q.data);
  const out: Volume<Float32Array> = { dims: [...q.dims], spacing: [...q.spacing], origin: [...q.origin], direction: [...q.direction] as Volume['direction'], data };
  queryKeys.set(out, `${process.pid}:${++queryCount}`);
  sharedCopies.set(q, new WeakRef(out));
  return out;
}

/** The shared copy of each volume, held weakly: it lives as long as a run uses it, not as long as the volume. */
const sharedCopies = new WeakMap<Volume, WeakRef<Volume<Float32Array>>>();

/** One key per shared query copy (TemplateJob.queryKey): its voxels never change after the copy. */
const queryKeys = new WeakMap<Volume<Float32Array>, string>();
let queryCount = 0;

/** Cache of transforms per (query series, template series, options). */
export class TransformCache {
  private readonly map = new Map<string, KnownTransforms>();
  private key(query: string, template: string, o: AtlasOptions): string {
    return `${query}\u0000${template}\u0000${JSON.stringify([o.clipHu, o.globalLevels, o.localLevels, o.localMarginMm, o.workingSpacingMm, o.rankLevels])}`;
  }
  get(query: string, template: string, o: AtlasOptions): KnownTransforms | undefined {
    return this.map.get(this.key(query, template, o));
  }
  set(query: string, template: string, o: AtlasOptions, t: KnownTransforms): void {
    this.map.set(this.key(query, template, o), t);
    // A long batch run visits many series: keep the cache bounded.
    if (this.map.size > 256) this.map.delete(this.map.keys().next().value as string);
  }
}

export async function buildJob(
  group: TemplateGroup,
  query: Volume<Float32Array>,
  querySeries: string,
  options: AtlasOptions,
  cache: TransformCache,
  masks: Map<string, Uint8Array> | undefined,
): Promise<TemplateJob> {
  const tv = await group.loadVolume();
  const template = { dims: [...tv.dims], spacing: [...tv.spacing], origin: [...tv.origin], direction: tv.direction, data: Float32Array.from(tv.data) } as Volume<Float32Array>;
  const structures: JobStructure[] = group.members.map(({ structure, member }) => {
    const s: JobStructure = { name: structure, points: member.points };
    const m = masks?.get(structure);
    if (m && m.length !== template.data.length) {
      throw new InputError(`template mask of ${structure} on series ${group.seriesUid} has ${m.length} voxels, its CT ${template.data.length}`, {
        seriesUid: group.seriesUid,
        structure,
      });
    }
    if (m) s.mask = m;
    return s;
  });
  const job: TemplateJob = { query, template, structures, wantMasks: masks !== undefined, options };
  const queryKey = queryKeys.get(query);
  if (queryKey !== undefined) job.queryKey = queryKey;
  const known = cache.get(querySeries, group.seriesUid, options);
  if (known) job.known = known;
  return job;
}

/** The templates kept for one structure, best-ranked first, with their selection scores. */
export interface ChosenTemplates {
  name: string;
  members: TemplateMemberInput[];
  /** Selection score per kept member (NaN when no selection ran: every template kept). */
  scores: number[];
}

export interface SelectOptions {
  workers?: number;
  signal?: AbortSignal;
  onProgress?(message: string): void;
}

/**
 * Atlas selection (registration/select.ts): when a structure has more than `selectTopK` members,
 * every template series not yet ranked against this query is loaded, globally registered and scored
 * (streamed: one template CT per worker at a time), and each structure keeps its k best members.
 * The global transforms and scores land in the cache, so the later stages do not repeat them.
 */
export async function selectTemplates(
  structures: { name: string; members?: TemplateMemberInput[] }[],
  query: Volume<Float32Array>,
  querySeries: string,
  options: AtlasOptions,
  cache: TransformCache,
  opts: SelectOptions = {},
): Promise<ChosenTemplates[]> {
  const k = options.selectTopK;
  const all = (): ChosenTemplates[] =>
    structures.map((s) => ({ name: s.name, members: s.members ?? [], scores: (s.members ?? []).map(() => Number.NaN) }));
  if (k <= 0 || structures.every((s) => (s.members ?? []).length <= k)) return all();
  const ranked = (series: string, name: string): number | undefined => cache.get(querySeries, series, options)?.rank?.[name];
  const groups = groupBySeries(structures.filter((s) => (s.members ?? []).length > k)).filter((g) =>
    g.members.some(({ structure }) => ranked(g.seriesUid, structure) === undefined),
  );
  const jobs: LazyJobs<TemplateJob> = {
    count: groups.length,
    build: async (n) => {
      const job = await buildJob(groups[n]!, query, querySeries, options, cache, undefined);
      job.rankOnly = true;
      return job;
    },
  };
  let done = 0;
  const poolOpts: AtlasPoolOptions = {
    onJobProgress: (_n, _message, finished) => {
      if (finished) opts.onProgress?.(`ranked ${++done} of ${groups.length} template scan(s)`);
    },
  };
  if (opts.workers !== undefined) poolOpts.workers = opts.workers;
  if (opts.signal) poolOpts.signal = opts.signal;
  if (groups.length > 0) {
    opts.onProgress?.(`ranking ${groups.length} template scan(s) after global registration`);
    const results = await runAtlasJobs(jobs, TEMPLATE_JOBS, poolOpts);
    results.forEach((r, n) => cache.set(querySeries, groups[n]!.seriesUid, options, r.transforms));
  }
  const perSeries = new Map<string, number[]>();
  for (const s of structures) {
    if ((s.members ?? []).length <= k) continue;
    for (const m of s.members ?? []) {
      const r = ranked(m.seriesUid, s.name);
      const list = perSeries.get(m.seriesUid) ?? [];
      if (r !== undefined) list.push(r);
      perSeries.set(m.seriesUid, list);
    }
  }
  const capped = capTemplates(perSeries, options.selectMaxTemplates);
  return structures.map((s) => {
    const members = s.members ?? [];
    if (members.length <= k) return { name: s.name, members, scores: members.map(() => Number.NaN) };
    const score = (m: TemplateMemberInput): number => ranked(m.seriesUid, s.name) ?? -Infinity;
    // Within the cap first (scores are NCC, -1..1); outside it only to fill k.
    const kept = topK(members, (m) => score(m) + (capped && !capped.has(m.seriesUid) ? -10 : 0), k);
    return { name: s.name, members: kept, scores: kept.map(score) };
  });
}

/**
 * Jobs for the pool, built on demand (the template CT and its masks loaded when a worker is free):
 * `masksOf` loads one group's masks, or returns undefined for points-only registration.
 */
export function lazyJobs(
  groups: TemplateGroup[],
  query: Volume<Float32Array>,
  querySeries: string,
  options: AtlasOptions,
  cache: TransformCache,
  masksOf: (g: TemplateGroup) => Promise<Map<string, Uint8Array> | undefined>,
): LazyJobs<TemplateJob> {
  return { count: groups.length, build: async (n) => buildJob(groups[n]!, query, querySeries, options, cache, await masksOf(groups[n]!)) };
}
