/**
 * `delineate segment --set NAME --series UID [--backend medsam|atlas] [--models DIR] [--localizer NAME]
 * [--mode wpl|spl] [--structures A B ...]`: segments the structures of a template set on one series
 * from the boxes stored for it; structures without stored boxes are localized first (and those boxes
 * stored). Masks are stored per structure with the model hashes (DESIGN.md, command line contract).
 * JSON: {seriesUid, structures:[{name, voxels, volumeCc, confidence, flags}], timingsMs}.
 */
import type { Command } from '../command.js';
import { list, req, str } from '../args.js';
import { InputError, NotFoundError } from '../../engine/errors.js';
import { selectBackends, type SelectedBackends } from '../../engine/backends.js';
import { createLocalizer, createSegmenter } from '../../engine/eval/backends.js';
import type { Box, Localizer, StructureFlag, StructureTemplates } from '../../engine/localize/localizer.js';
import { medsamFromModelsDir } from '../../engine/segment/factory.js';
import type { Segmenter } from '../../engine/segment/segmenter.js';
import { defaultModelsDir } from '../../engine/paths.js';
import { getResults, upsertLocalization, upsertSegmentation } from '../../engine/store/results.js';
import { getTemplateSet } from '../../engine/store/templates.js';
import { templateMembers } from '../../engine/segment/members.js';
import { loadFloatVolume } from '../../engine/volume/load.js';

export interface SegmentOutput {
  seriesUid: string;
  structures: { name: string; voxels: number; volumeCc: number; confidence: number; flags: StructureFlag[] }[];
  timingsMs: Record<string, number>;
}

async function chooseLocalizer(name: string | undefined, modelsDir: string, auto: () => Promise<SelectedBackends>): Promise<Localizer> {
  if (name === undefined) return (await auto()).localizer;
  if (name === 'atlas') return (await selectBackends({ backend: 'atlas' })).localizer;
  return createLocalizer(name, { modelsDir });
}

async function chooseSegmenter(name: string | undefined, modelsDir: string, auto: () => Promise<SelectedBackends>): Promise<Segmenter> {
  if (name === undefined) return (await auto()).segmenter;
  // Explicit medsam: only the SAM models are needed (boxes may already be stored); refuse clearly if absent.
  if (name === 'medsam') return medsamFromModelsDir(modelsDir);
  if (name === 'atlas') return (await selectBackends({ backend: 'atlas' })).segmenter;
  return createSegmenter(name, { modelsDir });
}

export const segmentCommand: Command = {
  path: ['segment'],
  summary: 'segment the structures of a template set on one series (localizing first where no boxes are stored)',
  usage:
    'delineate segment --set NAME --series UID [--backend medsam|atlas] [--models DIR] [--localizer medlam|atlas] [--mode wpl|spl] [--structures A B ...] [--db FILE] [--json]',
  flags: {
    set: { type: 'string', description: 'template set name' },
    series: { type: 'string', description: 'series instance UID to segment' },
    backend: { type: 'string', description: 'segmenter: medsam or atlas (default: MedSAM when its models are verified, else atlas)' },
    models: { type: 'string', description: 'models folder (default: DELINEATE_MODELS or the per-user folder)' },
    localizer: { type: 'string', description: 'localizer used when no boxes are stored: medlam or atlas (default: MedLAM when verified, else atlas)' },
    mode: { type: 'string', description: 'localization mode when localizing: wpl (default) or spl' },
    structures: { type: 'list', description: 'only these structures of the set' },
  },
  async run(args, ctx): Promise<SegmentOutput> {
    const t0 = performance.now();
    const setName = req(args, 'set');
    const seriesUid = req(args, 'series');
    const backend = str(args, 'backend');
    const modelsDir = str(args, 'models') ?? defaultModelsDir();
    const mode = str(args, 'mode') ?? 'wpl';
    if (mode !== 'wpl' && mode !== 'spl') throw new InputError(`option --mode must be wpl or spl, not '${mode}'`);
    const db = ctx.db();
    const set = getTemplateSet(db, setName);
    const only = list(args, 'structures');
    for (const n of only) {
      if (!set.structures.some((s) => s.name === n)) throw new NotFoundError(`template set '${setName}' has no structure ${n}`, { templateSet: setName, structure: n });
    }
    const wanted = set.structures.filter((s) => only.length === 0 || only.includes(s.name));
    if (wanted.length === 0) throw new InputError(`template set '${setName}' has no structures to segment`, { templateSet: setName });

    ctx.log(`loading series ${seriesUid}`);
    const volume = await loadFloatVolume(db, seriesUid, { signal: ctx.signal });
    const tLoad = performance.now();

    // The automatic choice (engine/backends.ts), made at most once and only when needed.
    let selected: Promise<SelectedBackends> | undefined;
    const auto = (): Promise<SelectedBackends> => (selected ??= selectBackends({ modelsDir }));

    const boxes = new Map<string, Box[]>();
    for (const r of getResults(db, seriesUid, setName)) if (r.boxes.length > 0) boxes.set(r.structure, r.boxes);
    const missing = wanted.filter((s) => !boxes.has(s.name));
    if (missing.length > 0) {
      const localizer = await chooseLocalizer(str(args, 'localizer'), modelsDir, auto);
      ctx.log(`no stored boxes for ${missing.map((s) => s.name).join(', ')}: localizing with ${localizer.name}`);
      const structures: StructureTemplates[] = missing.map((s) => ({
        name: s.name,
        members: templateMembers(db, setName, s, ctx.signal),
      }));
      const localized = await localizer.localize({
        seriesUid, query: volume, templateSet: setName, structures, mode, signal: ctx.signal,
        onProgress: (p) => ctx.log(`localize ${p.done}/${p.total}${p.message ? ` ${p.message}` : ''}`),
      });
      upsertLocalization(db, { seriesUid, templateSet: setName, localizer: localizer.name, mode, models: localizer.models(), structures: localized });
      for (const l of localized) if (l.boxes.length > 0) boxes.set(l.name, l.boxes);
    }
    const tLocalize = performance.now();

    const segmenter = await chooseSegmenter(backend, modelsDir, auto);
    // Template members travel with the boxes: the atlas segmenter propagates their masks (MedSAM ignores them).
    const inputs = wanted.filter((s) => boxes.has(s.name)).map((s) => ({
      name: s.name,
      boxes: boxes.get(s.name)!,
      members: templateMembers(db, setName, s, ctx.signal),
    }));
    for (const s of wanted) if (!boxes.has(s.name)) ctx.log(`not segmented: ${s.name} has no box (the localizer found none)`);
    const result = await segmenter.segment({
      seriesUid, volume, structures: inputs, signal: ctx.signal,
      onProgress: (p) => ctx.log(`segment ${p.done}/${p.total}${p.message ? ` ${p.message}` : ''}`),
    });
    const tSegment = performance.now();
    upsertSegmentation(db, {
      seriesUid, templateSet: setName, segmenter: segmenter.name, models: segmenter.models(),
      structures: result.map((r) => ({ name: r.name, mask: r.mask, voxels: r.voxels, volumeCc: r.volumeCc, confidence: r.confidence, flags: r.flags })),
    });
    const tEnd = performance.now();
    const ms = (a: number, b: number): number => Math.round(b - a);
    return {
      seriesUid,
      structures: result.map((r) => ({ name: r.name, voxels: r.voxels, volumeCc: r.volumeCc, confidence: r.confidence, flags: r.flags })),
      timingsMs: { load: ms(t0, tLoad), localize: ms(tLoad, tLocalize), segment: ms(tLocalize, tSegment), store: ms(tSegment, tEnd), total: ms(t0, tEnd) },
    };
  },
  human(result: unknown): string {
    const r = result as SegmentOutput;
    const lines = r.structures.map((s) => `${s.name.padEnd(16)} ${String(s.voxels).padStart(8)} voxels ${s.volumeCc.toFixed(1).padStart(8)} cc  conf ${s.confidence.toFixed(2)}${s.flags.length ? `  [${s.flags.join(', ')}]` : ''}`);
    return [`series ${r.seriesUid}`, ...lines, `total ${r.timingsMs.total} ms`].join('\n');
  },
};
