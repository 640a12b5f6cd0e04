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

/** The query's voxels in a SharedArrayBuffer: every worker reads the same memory, no copies. */
export function sharedQuery(q: Volume): Volume<Float32Array> {
  const data = new Float32Array(new SharedArrayBuffer(q.data.length * 4));
  data.set(q.data);
  return { dims: [...q.dims], spacing: [...q.spacing], origin: [...q.origin], direction: [...q.direction] as Volume['direction'], data };
}

/** Cache of transforms per (query series, template series, options). */
export class TransformCache {
  private readonly map = new Map<string, KnownTransforms>();
  private key(query: string, template: string, o: AtlasOptions): string {
    return `${query}\u0000${template}\u0000${JSON.stringify([o.clipHu, o.globalLevels, o.localLevels, o.localMarginMm])}`;
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
  const known = cache.get(querySeries, group.seriesUid, options);
  if (known) job.known = known;
  return job;
}

/**
 * Every member's mask, by template series then structure, for structures whose members ALL have
 * one (a structure with a points-only member is localized from points, so votes stay comparable).
 */
export async function loadAllMasks(structures: { name: string; members?: TemplateMemberInput[] }[]): Promise<Map<string, Map<string, Uint8Array>>> {
  const out = new Map<string, Map<string, Uint8Array>>();
  for (const s of structures) {
    const members = s.members ?? [];
    const masks: Uint8Array[] = [];
    for (const m of members) {
      const mask = m.loadMask ? await m.loadMask() : undefined;
      if (!mask) break;
      masks.push(mask);
    }
    if (members.length === 0 || masks.length !== members.length) continue;
    members.forEach((m, n) => {
      let map = out.get(m.seriesUid);
      if (!map) out.set(m.seriesUid, (map = new Map()));
      map.set(s.name, masks[n]!);
    });
  }
  return out;
}
