/**
 * `npm run bench -- atlas-fusion [--queries 4,13,17,22,31,34] [--library 25] [--workers 2] [--cache DIR]
 *   [--variants JSON] [--options JSON]`
 *
 * Label fusions side by side on the same registrations: for each query (by default the six
 * ../shared/data/openkbp patients, the set the atlas settings are chosen on; the 20 openkbp-library
 * patients stay held out for `npm run bench -- atlas`), the other patients of openkbp +
 * openkbp-library are the library (the first `--library` of a fixed rotation), templates are selected
 * and registered once, and every fusion variant (a partial AtlasOptions; `--variants` replaces the
 * default grid) is applied to the same warped templates. Prints per variant the mean Dice, HD95 and
 * surface Dice at 2 mm, per structure Dice, and how often a structure was flagged (and its mean
 * Dice when flagged), so a fusion is judged by its accuracy and by whether its flags mean something;
 * then per variant the box IoU of each structure's contour and where its box errs: the mean signed
 * distance (mm) of each face from the reference's, positive where the contour reaches beyond it.
 * `--cache DIR` keeps each query's registrations on disk (v8 serialisation) for later variants; the
 * files are keyed by query, library size and k only, so empty DIR when registration settings change.
 * `--options` patches the registration and selection settings every variant fuses from.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { AtlasSegmenter } from '../../electron/engine/segment/atlas/atlas-segmenter.js';
import { DEFAULT_ATLAS_OPTIONS, type AtlasOptions, type TemplateJobResult } from '../../electron/engine/registration/template-job.js';
import { surfaceDice, surfaceDistances, hd95 } from '../../electron/engine/metrics/surface-distance.js';
import { countNonZero } from '../../electron/engine/metrics/masks.js';
import { boxIou, maskBoxLps } from '../../electron/engine/metrics/boxes.js';
import type { Box } from '../../electron/engine/localize/localizer.js';
import { dataDir } from '../helpers/data.js';
import { binary, diceOf, libraryCase, loadCase, patientsIn, streamedTemplates } from '../integration/atlas/openkbp.js';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const DEFAULT_VARIANTS: Record<string, Partial<AtlasOptions>> = {
  'default (joint + vote)': {},
  'locally weighted vote': { fusionMethod: 'local' },
  'joint alone': { jointMix: 1 },
  'joint + vote, no search': { jointSearchMm: 0 },
  'joint + vote, alpha 1': { jointAlpha: 1 },
  'joint + vote, no refine': { intensityRefine: false },
};

interface Score {
  dice: number;
  hd95: number;
  sdice: number;
  flagged: boolean;
  confidence: number;
  boxIou: number;
  /** Signed face distances (mm), outward positive: patient right, left, anterior, posterior, inferior, superior. */
  faces: number[];
}

const FACES = ['R', 'L', 'A', 'P', 'I', 'S'];

/** How far each face of `box` lies beyond the reference's (mm; negative: inside it). LPS: x grows to the left, y posteriorly, z superiorly. */
function faceErrors(box: Box, ref: Box): number[] {
  return [0, 1, 2].flatMap((ax) => [ref.min[ax]! - box.min[ax]!, box.max[ax]! - ref.max[ax]!]);
}

export async function bench(args: string[]): Promise<void> {
  const dirs = [join(dataDir(), 'openkbp'), join(dataDir(), 'openkbp-library')].filter((d) => existsSync(join(d, 'oar_names.json')));
  if (dirs.length === 0) {
    process.stdout.write(`atlas-fusion bench skipped: ${join(dataDir(), 'openkbp')} is absent\n`);
    return;
  }
  const all = dirs.flatMap((d) => patientsIn(d).map((id) => libraryCase(d, id)));
  const queries = (flag(args, 'queries') ?? '4,13,17,22,31,34').split(',');
  const librarySize = Number(flag(args, 'library') ?? 25);
  const workers = Number(flag(args, 'workers') ?? 2);
  const cacheDir = flag(args, 'cache');
  const variants = flag(args, 'variants') ? (JSON.parse(flag(args, 'variants')!) as Record<string, Partial<AtlasOptions>>) : DEFAULT_VARIANTS;
  // Registration keeps the warped template CTs (needed by joint fusion, harmless for the others).
  // --options patches the registration and selection settings (e.g. {"selectTopK": 7}).
  const regOptions: AtlasOptions = { ...DEFAULT_ATLAS_OPTIONS, ...(JSON.parse(flag(args, 'options') ?? '{}') as Partial<AtlasOptions>), fusionMethod: 'joint' };
  process.stdout.write(`queries ${queries.map((q) => `pt_${q}`).join(', ')}; library ${librarySize} of the other patients; top-k ${regOptions.selectTopK}\n`);
  const scores = new Map<string, Map<string, Score[]>>(Object.keys(variants).map((v) => [v, new Map()]));
  for (const qid of queries) {
    const qc = all.find((c) => c.id === qid);
    if (!qc) throw new Error(`no OpenKBP patient ${qid} in ${dirs.join(', ')}`);
    const q = loadCase(qc.dir, qid);
    const rest = all.filter((c) => c.id !== qid);
    const start = all.indexOf(qc) % rest.length;
    const library = librarySize >= rest.length ? rest : [...rest, ...rest].slice(start, start + librarySize);
    const seg = new AtlasSegmenter({ workers, options: regOptions });
    const file = cacheDir ? join(cacheDir, `pt_${qid}-lib${librarySize}-k${regOptions.selectTopK}.v8`) : undefined;
    let results: TemplateJobResult[];
    const t0 = performance.now();
    if (file && existsSync(file)) {
      results = deserialize(readFileSync(file)) as TemplateJobResult[];
    } else {
      const structures = streamedTemplates(library);
      results = (await seg.propagate({ seriesUid: q.seriesUid, volume: q.ct, structures: structures.map((s) => ({ name: s.name, boxes: [], members: s.members })) })).results;
      if (file) {
        mkdirSync(cacheDir!, { recursive: true });
        writeFileSync(file, serialize(results));
      }
    }
    const regS = (performance.now() - t0) / 1000;
    const line: string[] = [];
    // The reference per structure, shared by every variant: its mask and its box.
    const refs = new Map(Object.entries(q.names).map(([value, name]) => {
      const gt = binary(q.labels, Number(value));
      return [name, { gt, box: maskBoxLps(gt, q.labels) }];
    }));
    for (const [vname, v] of Object.entries(variants)) {
      const o = { ...DEFAULT_ATLAS_OPTIONS, ...v };
      const f0 = performance.now();
      let sum = 0;
      for (const name of Object.values(q.names)) {
        const s = seg.fuse(name, q.ct, results, o);
        const { gt, box: ref } = refs.get(name)!;
        const dice = diceOf(s.mask, gt);
        let h = Number.NaN;
        let sd = 0;
        if (countNonZero(s.mask) > 0 && countNonZero(gt) > 0) {
          const d = surfaceDistances(s.mask, gt, q.ct.dims, q.ct.spacing);
          h = hd95(d);
          sd = surfaceDice(d, 2);
        }
        const box = maskBoxLps(s.mask, q.ct);
        const per = scores.get(vname)!;
        if (!per.has(name)) per.set(name, []);
        per.get(name)!.push({
          dice, hd95: h, sdice: sd, flagged: s.flags.length > 0, confidence: s.confidence,
          boxIou: box && ref ? boxIou(box, ref) : Number.NaN, faces: box && ref ? faceErrors(box, ref) : FACES.map(() => Number.NaN),
        });
        sum += dice;
      }
      line.push(`${vname} ${(sum / Object.keys(q.names).length).toFixed(3)} (${((performance.now() - f0) / 1000).toFixed(1)} s)`);
    }
    process.stdout.write(`pt_${qid}: registration ${regS.toFixed(1)} s | ${line.join(' | ')}\n`);
  }
  const mean = (xs: number[]): number => {
    const v = xs.filter((x) => Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
  };
  const names = [...(scores.values().next().value?.keys() ?? [])];
  process.stdout.write(`\nvariant${' '.repeat(22)} Dice   HD95  sDice2  flagged (Dice when flagged / not) rho(conf, Dice) | ${names.map((n) => n.slice(0, 8).padStart(8)).join(' ')}\n`);
  for (const [vname, per] of scores) {
    const flat = [...per.values()].flat();
    const perName = names.map((n) => mean(per.get(n)!.map((s) => s.dice)));
    const fl = flat.filter((s) => s.flagged);
    const ok = flat.filter((s) => !s.flagged);
    process.stdout.write(
      `${vname.padEnd(29)} ${mean(perName).toFixed(3)} ${mean(names.map((n) => mean(per.get(n)!.map((s) => s.hd95)))).toFixed(1).padStart(5)} ` +
        `${mean(names.map((n) => mean(per.get(n)!.map((s) => s.sdice)))).toFixed(3).padStart(6)}  ${String(fl.length).padStart(3)}/${flat.length} ` +
        `(${mean(fl.map((s) => s.dice)).toFixed(2)} / ${mean(ok.map((s) => s.dice)).toFixed(2)}) ${spearman(flat.map((s) => s.confidence), flat.map((s) => s.dice)).toFixed(2).padStart(5)}          | ${perName.map((d) => d.toFixed(3).padStart(8)).join(' ')}\n`,
    );
  }
  for (const [vname, per] of scores) {
    const boxes = names.map((n) => mean(per.get(n)!.map((s) => s.boxIou)));
    process.stdout.write(`\n${vname}: box IoU ${mean(boxes).toFixed(3)}; per structure box IoU and mean signed face error (mm, + beyond the reference)\n`);
    process.stdout.write(`  ${''.padEnd(14)} boxIoU ${FACES.map((f) => f.padStart(6)).join('')}\n`);
    names.forEach((n, i) => {
      const faces = FACES.map((_, f) => mean(per.get(n)!.map((s) => s.faces[f]!)));
      process.stdout.write(`  ${n.padEnd(14)} ${boxes[i]!.toFixed(3).padStart(6)} ${faces.map((d) => d.toFixed(1).padStart(6)).join('')}\n`);
    });
  }
}

/** Spearman rank correlation (average ranks for ties): does a higher confidence mean a better mask? */
function spearman(a: number[], b: number[]): number {
  const rank = (x: number[]): number[] => {
    const order = x.map((v, i) => ({ v, i })).sort((p, q) => p.v - q.v);
    const r = new Array<number>(x.length);
    for (let s = 0; s < order.length; ) {
      let e = s;
      while (e + 1 < order.length && order[e + 1]!.v === order[s]!.v) e++;
      for (let t = s; t <= e; t++) r[order[t]!.i] = (s + e) / 2;
      s = e + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const ma = ra.reduce((x, y) => x + y, 0) / n;
  const mb = rb.reduce((x, y) => x + y, 0) / n;
  let c = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    c += (ra[i]! - ma) * (rb[i]! - mb);
    va += (ra[i]! - ma) ** 2;
    vb += (rb[i]! - mb) ** 2;
  }
  return va > 0 && vb > 0 ? c / Math.sqrt(va * vb) : Number.NaN;
}
