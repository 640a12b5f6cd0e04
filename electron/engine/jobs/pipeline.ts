/**
 * The product's work module (pool.ts loads it in every worker): for one series, load the volume,
 * localize every structure of the template set, segment the boxes found, and hand everything to
 * commit.ts. The backends come from backends.ts (MedLAM + MedSAM when verified, else atlas) and are
 * loaded once per worker.
 */
import type { Db } from '../store/db.js';
import { throwIfAborted } from '../errors.js';
import { selectBackends } from '../backends.js';
import { getTemplateMask, getTemplateSet, membersWithMasks } from '../store/templates.js';
import { excludedMembers } from '../store/template-outliers.js';
import { loadFloatVolume } from '../volume/load.js';
import type { Volume } from '../volume/volume.js';
import type { StructureTemplates } from '../localize/localizer.js';
import type { Work, WorkOptions } from './work.js';
import type { BackendInfo, ItemOutput, ItemProgress } from './types.js';

/** Template volumes kept per worker: a set has a few template scans, reused for every series. */
const TEMPLATE_CACHE = 4;

class VolumeCache {
  private readonly entries = new Map<string, Promise<Volume>>();

  get(db: Db, seriesUid: string, signal: AbortSignal): Promise<Volume> {
    const hit = this.entries.get(seriesUid);
    if (hit) {
      this.entries.delete(seriesUid);
      this.entries.set(seriesUid, hit); // most recently used last
      return hit;
    }
    const p = loadFloatVolume(db, seriesUid, { signal });
    p.catch(() => this.entries.delete(seriesUid));
    this.entries.set(seriesUid, p);
    while (this.entries.size > TEMPLATE_CACHE) this.entries.delete(this.entries.keys().next().value!);
    return p;
  }

  clear(): void {
    this.entries.clear();
  }
}

export async function createWork(opts: WorkOptions): Promise<Work> {
  const { localizer, segmenter, reasons } = await selectBackends({
    ...(opts.modelsDir !== undefined ? { modelsDir: opts.modelsDir } : {}),
    ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
  });
  const backends: BackendInfo = {
    localizer: localizer.name,
    segmenter: segmenter.name,
    models: [...localizer.models(), ...segmenter.models()],
    notes: reasons,
  };
  const templates = new VolumeCache();
  return {
    backends,
    async process(task, ctx): Promise<ItemOutput> {
      const { db, signal } = ctx;
      const ref = { seriesUid: task.seriesUid, templateSet: task.templateSet };
      const set = getTemplateSet(db, task.templateSet);
      // Progress in two phases: localization is the first half, segmentation the second.
      const phase = (offset: number, label: string) => (p: ItemProgress) =>
        ctx.onProgress({ done: offset + (p.total > 0 ? p.done / p.total : 0), total: 2, message: p.message ? `${label}: ${p.message}` : label });
      ctx.onProgress({ done: 0, total: 2, message: 'loading' });
      const volume = await loadFloatVolume(db, task.seriesUid, { signal });
      throwIfAborted(signal, ref);
      // Outlier members (store/template-outliers.ts) stay out of the vote unless a person kept them;
      // a structure whose every member is flagged keeps them all rather than vanish.
      const excluded = excludedMembers(db, task.templateSet);
      const masked = membersWithMasks(db, task.templateSet);
      const structures: StructureTemplates[] = set.structures.map((s) => ({
        name: s.name,
        members: (s.members.every((m) => excluded.has(`${s.name}\u0000${m.seriesUid}`)) ? s.members : s.members.filter((m) => !excluded.has(`${s.name}\u0000${m.seriesUid}`))).map((m) => ({
          seriesUid: m.seriesUid,
          points: m.points,
          loadVolume: () => templates.get(db, m.seriesUid, signal),
          loadMask: () => Promise.resolve(getTemplateMask(db, { set: task.templateSet, structure: s.name, seriesUid: m.seriesUid })),
          hasMask: masked.has(`${s.name}\u0000${m.seriesUid}`),
        })),
      }));
      const localized = await localizer.localize({
        seriesUid: task.seriesUid,
        query: volume,
        templateSet: task.templateSet,
        structures,
        mode: task.mode,
        signal,
        onProgress: phase(0, 'localize'),
      });
      throwIfAborted(signal, ref);
      const byName = new Map(structures.map((s) => [s.name, s.members]));
      const inputs = localized
        .filter((l) => l.boxes.length > 0)
        .map((l) => ({ name: l.name, boxes: l.boxes, members: byName.get(l.name) ?? [] }));
      const segmented =
        inputs.length === 0
          ? []
          : await segmenter.segment({ seriesUid: task.seriesUid, volume, structures: inputs, signal, onProgress: phase(1, 'segment') });
      ctx.onProgress({ done: 2, total: 2, message: 'storing' });
      return {
        backends,
        mode: task.mode,
        localized,
        segmented,
        // Provenance: the template scans that voted for each structure (an atlas backend may select
        // a few of the set's members per structure), else every member of the set.
        templates: Object.fromEntries(
          set.structures.map((s) => [
            s.name,
            segmented.find((x) => x.name === s.name)?.templates ??
              localized.find((x) => x.name === s.name)?.templates ??
              structures.find((x) => x.name === s.name)!.members.map((m) => m.seriesUid),
          ]),
        ),
      };
    },
    close() {
      templates.clear();
      return Promise.resolve();
    },
  };
}
