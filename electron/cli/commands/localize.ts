/**
 * `delineate localize --set NAME --series UID [--mode wpl|spl] [--backend medlam] [--models DIR]
 * [--query-crops FILE] [--structures A B ...]`: finds each structure of a template set on one series
 * and stores the boxes (DESIGN.md, command line contract).
 * JSON: {seriesUid, backend, models:[{name, sha256}], structures:[{name, boxes:[{min, max}],
 * extremePoints, confidence, flags}], timingsMs}.
 *
 * --query-crops FILE fixes MedLAM's coarse crop centres ([z, y, x] in the padded 3 mm grid): a JSON
 * array of [z, y, x], an array entry of a parity case.json ({..., "values": [[z, y, x], ...]}), or a
 * whole case.json (its arrays.query_crop_centres_vox).
 */
import { readFileSync } from 'node:fs';
import type { Command } from '../command.js';
import { list, req, str } from '../args.js';
import { InputError, NotFoundError } from '../../engine/errors.js';
import { createLocalizer } from '../../engine/eval/backends.js';
import type { LocalizedStructure, ModelRef, StructureTemplates } from '../../engine/localize/localizer.js';
import { MedlamLocalizer } from '../../engine/localize/medlam.js';
import { DbSupportCache } from '../../engine/localize/support-cache.js';
import { defaultModelsDir } from '../../engine/paths.js';
import { upsertLocalization } from '../../engine/store/results.js';
import { getTemplateSet } from '../../engine/store/templates.js';
import { templateMembers } from '../../engine/segment/members.js';
import { loadFloatVolume } from '../../engine/volume/load.js';
import type { Vec3 } from '../../engine/volume/geometry.js';

export interface LocalizeOutput {
  seriesUid: string;
  backend: string;
  models: ModelRef[];
  structures: LocalizedStructure[];
  timingsMs: Record<string, number>;
}

/** Reads --query-crops in any of the accepted forms. */
export function readQueryCrops(file: string): Vec3[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new InputError(`cannot read query crops ${file}: ${(cause as Error).message}`, { file }, { cause });
  }
  const arrays = (raw as { arrays?: Record<string, unknown> } | null)?.arrays;
  if (arrays && typeof arrays === 'object') raw = arrays.query_crop_centres_vox;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) raw = (raw as { values?: unknown }).values;
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((r) => Array.isArray(r) && r.length === 3 && r.every((v) => Number.isInteger(v)))) {
    throw new InputError(`query crops ${file} must hold a non-empty list of integer [z, y, x] centres`, { file });
  }
  return raw as Vec3[];
}

export const localizeCommand: Command = {
  path: ['localize'],
  summary: 'localize the structures of a template set on one series and store the boxes',
  usage: 'delineate localize --set NAME --series UID [--mode wpl|spl] [--backend medlam] [--models DIR] [--query-crops FILE] [--structures A B ...] [--db FILE] [--json]',
  flags: {
    set: { type: 'string', description: 'template set name' },
    series: { type: 'string', description: 'series instance UID to localize on' },
    mode: { type: 'string', description: 'wpl (whole structure, default) or spl (sub-parts along the body axis)' },
    backend: { type: 'string', description: 'localizer backend (default medlam)' },
    models: { type: 'string', description: 'models folder (default: DELINEATE_MODELS or the per-user folder)' },
    'query-crops': { type: 'string', description: 'JSON file of MedLAM coarse crop centres [z, y, x] (padded 3 mm grid)' },
    structures: { type: 'list', description: 'only these structures of the set' },
  },
  async run(args, ctx): Promise<LocalizeOutput> {
    const t0 = performance.now();
    const setName = req(args, 'set');
    const seriesUid = req(args, 'series');
    const mode = str(args, 'mode') ?? 'wpl';
    if (mode !== 'wpl' && mode !== 'spl') throw new InputError(`option --mode must be wpl or spl, not '${mode}'`);
    const backend = str(args, 'backend') ?? 'medlam';
    const modelsDir = str(args, 'models') ?? defaultModelsDir();
    const cropsFile = str(args, 'query-crops');
    const crops = cropsFile ? readQueryCrops(cropsFile) : undefined;
    const db = ctx.db();
    const set = getTemplateSet(db, setName);
    const only = list(args, 'structures');
    for (const n of only) {
      if (!set.structures.some((s) => s.name === n)) throw new NotFoundError(`template set '${setName}' has no structure ${n}`, { templateSet: setName, structure: n });
    }
    const wanted = set.structures.filter((s) => (only.length === 0 || only.includes(s.name)) && s.members.length > 0);
    if (wanted.length === 0) throw new InputError(`template set '${setName}' has no structures with templates`, { templateSet: setName });

    const localizer =
      backend === 'medlam'
        ? await MedlamLocalizer.fromModelsDir(modelsDir, { cache: new DbSupportCache(db) })
        : await createLocalizer(backend, { modelsDir });
    if (crops && !(localizer instanceof MedlamLocalizer)) throw new InputError(`--query-crops applies to the medlam backend only, not ${backend}`);
    const tModels = performance.now();
    ctx.log(`loading series ${seriesUid}`);
    const query = await loadFloatVolume(db, seriesUid, { signal: ctx.signal });
    const tLoad = performance.now();
    const structures: StructureTemplates[] = wanted.map((s) => ({ name: s.name, members: templateMembers(db, setName, s, ctx.signal) }));
    const result = await localizer.localize({
      seriesUid,
      query,
      templateSet: setName,
      structures,
      mode,
      signal: ctx.signal,
      onProgress: (p) => ctx.log(`localize ${p.done}/${p.total}${p.message ? ` ${p.message}` : ''}`),
      ...(crops ? { queryCropCentres: crops } : {}),
    });
    const tLocalize = performance.now();
    upsertLocalization(db, { seriesUid, templateSet: setName, localizer: localizer.name, mode, models: localizer.models(), structures: result });
    const tEnd = performance.now();
    const ms = (a: number, b: number): number => Math.round(b - a);
    return {
      seriesUid,
      backend: localizer.name,
      models: localizer.models(),
      structures: result,
      timingsMs: { models: ms(t0, tModels), load: ms(tModels, tLoad), localize: ms(tLoad, tLocalize), store: ms(tLocalize, tEnd), total: ms(t0, tEnd) },
    };
  },
};
