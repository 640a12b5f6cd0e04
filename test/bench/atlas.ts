/**
 * `npm run bench -- atlas [--queries all|4,13] [--library 25] [--stop-after-s S] [--curve 1,3,5,10,25] [--curve-queries 4,100]
 *   [--elastix-queries 4,13] [--elastix-templates 5] [--workers 2] [--options JSON] [--out FILE.json] [--query-spacing 0.98,0.98,2]
 *   [--variants '[{}, {...}]' [--variant-queries 4,13] [--variant-library 5]]`
 *
 * The weight-free atlas backend on OpenKBP head-and-neck CT, 7 OARs, leave-one-out over every
 * patient of ../shared/data/openkbp and ../shared/data/openkbp-library (26): each patient in turn is
 * the query and `--library` of the others the templates (all 25 by default; a smaller library is a
 * fixed rotation of them). Templates are read from disk when the backend asks (streamed), so the
 * peak RSS is the backend's. Prints per OAR Dice, HD95, surface Dice at 2 mm, box IoU and wall
 * distance; the mean over all queries and over the 20 openkbp-library queries alone (the backend's
 * settings were chosen on the 6 openkbp patients, so those 20 are held out from every choice); a
 * Dice-versus-library-size curve with seconds per query; and side by side the classic peer, Debian's
 * elastix (rigid, affine, B-spline; Mattes MI) with majority voting over the same templates.
 * Times are also printed as ratios to a baseline measured in the same run (one global rigid
 * registration of one template pair), since the machine may be shared. `--query-spacing` resamples
 * the leave-one-out queries (CT and reference labels) to a clinical CT's grid over the same field of
 * view, to measure time and memory at that size (the templates stay as stored); the contours are
 * scored on that grid and again carried back to the stored grid, where the reference is as drawn.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAtlasBackend, type AtlasOptions } from '../../electron/engine/localize/atlas/index.js';
import { registerAffine } from '../../electron/engine/registration/affine.js';
import { clipNormalize } from '../../electron/engine/registration/image.js';
import { boxIou, maskBoxLps, wallDistanceMm } from '../../electron/engine/metrics/boxes.js';
import { surfaceDice, surfaceDistances, hd95 } from '../../electron/engine/metrics/surface-distance.js';
import { countNonZero } from '../../electron/engine/metrics/masks.js';
import { dataDir } from '../helpers/data.js';
import { binary, diceOf, libraryCase, loadCase, patientsIn, referenceBox, resampleCase, streamedTemplates, toStoredGrid, type Case, type LibraryCase, type ResampledCase } from '../integration/atlas/openkbp.js';
import { elastixAvailable, elastixMajorityVote } from './_elastix.js';
import { compareVariants } from './_atlas-variants.js';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * Dice, HD95, surface Dice 2 mm, box IoU and wall distance of the localizer's box, box IoU of the
 * segmented mask's bounding box (the box of the contour a planner receives).
 */
type Row = [number, number, number, number, number, number];
const COLS = 'Dice   HD95(mm)  sDice2mm  boxIoU  wall(mm)  maskBoxIoU';

function scoreMask(mask: Uint8Array, gt: Uint8Array, q: Case): [number, number, number] {
  const dice = diceOf(mask, gt);
  if (countNonZero(mask) === 0 || countNonZero(gt) === 0) return [dice, Number.NaN, 0];
  const d = surfaceDistances(mask, gt, q.ct.dims, q.ct.spacing);
  return [dice, hd95(d), surfaceDice(d, 2)];
}

interface QueryResult {
  rows: Map<string, Row>;
  seconds: number;
  /** Process CPU seconds (every thread, process.cpuUsage): independent of other load on the machine. */
  cpuSeconds: number;
  flagged: number;
  /** Distinct templates the chosen top-k of all structures came from (each registered in full). */
  union: number;
  /** For a resampled query (--query-spacing): Dice, HD95 and surface Dice on the stored grid. */
  stored?: Map<string, [number, number, number]>;
}

async function runQuery(q: Case | ResampledCase, library: LibraryCase[], workers: number, options: Partial<AtlasOptions>): Promise<QueryResult> {
  const { localizer, segmenter } = createAtlasBackend({ workers, options });
  const structures = streamedTemplates(library);
  const s0 = performance.now();
  const c0 = process.cpuUsage();
  const loc = await localizer.localize({ seriesUid: q.seriesUid, query: q.ct, templateSet: 'openkbp', structures, mode: 'wpl' });
  const seg = await segmenter.segment({
    seriesUid: q.seriesUid, volume: q.ct,
    structures: structures.map((s) => ({ name: s.name, boxes: loc.find((l) => l.name === s.name)!.boxes, members: s.members })),
  });
  const seconds = (performance.now() - s0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const union = new Set(seg.flatMap((m) => m.templates ?? [])).size;
  const rows = new Map<string, Row>();
  let stored: QueryResult['stored'];
  let flagged = 0;
  for (const [value, name] of Object.entries(q.names)) {
    const ref = referenceBox(q, Number(value));
    const l = loc.find((x) => x.name === name)!;
    const m = seg.find((x) => x.name === name)!;
    if (m.flags.length > 0) flagged++;
    const [dice, h, sd] = scoreMask(m.mask, binary(q.labels, Number(value)), q);
    const mbox = maskBoxLps(m.mask, q.ct);
    rows.set(name, [dice, h, sd, ref ? boxIou(l.boxes[0]!, ref) : Number.NaN, ref ? wallDistanceMm(l.boxes[0]!, ref) : Number.NaN, ref && mbox ? boxIou(mbox, ref) : Number.NaN]);
    if ('stored' in q) (stored ??= new Map()).set(name, scoreMask(toStoredGrid(m.mask, q), binary(q.stored.case.labels, Number(value)), q.stored.case));
  }
  return { rows, seconds, cpuSeconds, flagged, union, ...(stored ? { stored } : {}) };
}

function meanOf(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
}

/**
 * Per structure and over all, the mean of each column of `rowsOf` (every query's rows by default;
 * a shorter row fills the leading columns). Returns the mean Dice.
 */
function table(title: string, results: QueryResult[], rowsOf: (r: QueryResult) => Map<string, number[]> | undefined = (r) => r.rows): number {
  const names = [...(rowsOf(results[0]!)?.keys() ?? [])];
  const cols = [...Array(rowsOf(results[0]!)?.get(names[0]!)?.length ?? 0).keys()];
  process.stdout.write(`\n${title} (${results.length} queries)\n  ${''.padEnd(14)} ${COLS.split(/(?<=\S)(?=\s+\S)/).slice(0, cols.length).join('')}\n`);
  const means: number[][] = [];
  for (const name of names) {
    const m = cols.map((c) => meanOf(results.map((r) => rowsOf(r)?.get(name)?.[c] ?? Number.NaN)));
    means.push(m);
    process.stdout.write(`  ${name.padEnd(14)} ${fmt(m)}\n`);
  }
  const all = cols.map((c) => meanOf(means.map((m) => m[c]!)));
  process.stdout.write(`  ${'MEAN'.padEnd(14)} ${fmt(all)}\n`);
  return all[0]!;
}

/** Each column's digits and width, in COLS order. */
const FORMATS: [number, number][] = [[3, 5], [1, 7], [3, 8], [3, 6], [1, 7], [3, 10]];

function fmt(m: number[]): string {
  return m.map((x, c) => x.toFixed(FORMATS[c]![0]).padStart(FORMATS[c]![1])).join('  ');
}

/** `size` of the other patients, a fixed rotation starting at the query's position. */
function libraryFor(all: LibraryCase[], qid: string, size: number): LibraryCase[] {
  const rest = all.filter((c) => c.id !== qid);
  if (size >= rest.length) return rest;
  const start = all.findIndex((c) => c.id === qid) % rest.length;
  return [...rest, ...rest].slice(start, start + size);
}

/** Per query and structure: Dice, HD95, surface Dice 2 mm, box IoU, wall; seconds; the split. */
function writeResults(file: string, results: Map<string, QueryResult>, heldOut: Set<string>, run: Record<string, unknown>): void {
  const queries = [...results].map(([id, r]) => ({
    patient: `pt_${id}`,
    split: heldOut.has(id) ? 'held-out (openkbp-library)' : 'tuning (openkbp)',
    seconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    templatesChosen: r.union,
    flagged: r.flagged,
    structures: Object.fromEntries([...r.rows].map(([n, row]) => [n, { dice: row[0], hd95Mm: row[1], surfaceDice2mm: row[2], boxIou: row[3], wallMm: row[4], maskBoxIou: row[5] }])),
  }));
  writeFileSync(file, `${JSON.stringify({ run, columns: COLS, queries }, null, 1)}\n`);
}

export async function bench(args: string[]): Promise<void> {
  const dirs = [join(dataDir(), 'openkbp'), join(dataDir(), 'openkbp-library')].filter((d) => existsSync(join(d, 'oar_names.json')));
  if (dirs.length === 0) {
    process.stdout.write(`atlas bench skipped: ${join(dataDir(), 'openkbp')} is absent\n`);
    return;
  }
  const workers = Number(flag(args, 'workers') ?? 2);
  const options = JSON.parse(flag(args, 'options') ?? '{}') as Partial<AtlasOptions>;
  const all = dirs.flatMap((d) => patientsIn(d).map((id) => libraryCase(d, id)));
  const dirOf = new Map(all.map((c) => [c.id, c.dir]));
  const heldOut = new Set(all.filter((c) => c.dir.endsWith('openkbp-library')).map((c) => c.id));
  const pick = (v: string | undefined, dflt: string[]): string[] => (v === undefined ? dflt : v === 'all' ? all.map((c) => c.id) : v === '' ? [] : v.split(','));
  // Held-out patients first: a run stopped early has scored the patients nothing was tuned on.
  const queries = pick(flag(args, 'queries'), [...all.filter((c) => heldOut.has(c.id)), ...all.filter((c) => !heldOut.has(c.id))].map((c) => c.id));
  const librarySize = Number(flag(args, 'library') ?? 25);
  const curve = (flag(args, 'curve') ?? '').split(',').filter(Boolean).map(Number);
  const curveQueries = pick(flag(args, 'curve-queries'), ['4', '13', '100', '132', '200']).filter((id) => dirOf.has(id));
  const elastixQueries = pick(flag(args, 'elastix-queries'), []).filter((id) => dirOf.has(id));
  const elastixTemplates = Number(flag(args, 'elastix-templates') ?? 5);
  // --query-spacing i,j,k (mm): queries resampled to a clinical CT's grid (templates stay as stored).
  const querySpacing = flag(args, 'query-spacing')?.split(',').map(Number) as [number, number, number] | undefined;
  const load = (id: string, asQuery = false): Case => {
    const dir = dirOf.get(id);
    if (!dir) throw new Error(`no OpenKBP patient ${id} in ${dirs.join(', ')}`);
    const c = loadCase(dir, id);
    return asQuery && querySpacing ? resampleCase(c, querySpacing) : c;
  };

  const a = load(all[0]!.id);
  const b = load(all[1]!.id);
  const t0 = performance.now();
  registerAffine(clipNormalize(a.ct, -200, 1500), clipNormalize(b.ct, -200, 1500), { rigidOnly: true });
  const baselineS = (performance.now() - t0) / 1000;
  process.stdout.write(`baseline: one global rigid registration (pt_${a.id} <- pt_${b.id}) ${baselineS.toFixed(2)} s\n`);
  process.stdout.write(`${all.length} patients in ${dirs.join(', ')}; library ${librarySize}, worker threads ${workers}, options ${JSON.stringify(options)}\n`);

  const variants = flag(args, 'variants');
  if (variants !== undefined) {
    // Side by side settings (see _atlas-variants.ts): the openkbp/ patients as queries by default,
    // each with the other openkbp/ patients as its library, the setup every setting was chosen in.
    const tuning = all.filter((c) => !heldOut.has(c.id));
    const vq = pick(flag(args, 'variant-queries'), tuning.map((c) => c.id)).filter((id) => dirOf.has(id));
    const vsize = Number(flag(args, 'variant-library') ?? tuning.length - 1);
    await compareVariants(JSON.parse(variants) as Partial<AtlasOptions>[], {
      queries: vq, load, workers, base: options,
      libraryFor: (qid) => libraryFor(heldOut.has(qid) ? all : tuning, qid, vsize),
    });
    process.stdout.write(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
    return;
  }

  // --stop-after-s: start no new leave-one-out query after this many seconds (a shared machine).
  const stopAfterS = Number(flag(args, 'stop-after-s') ?? Infinity);
  // --out FILE: every finished query's scores, rewritten after each query (a stopped run keeps them).
  const outFile = flag(args, 'out');
  const results = new Map<string, QueryResult>();
  for (const qid of queries) {
    if ((performance.now() - t0) / 1000 > stopAfterS) {
      process.stdout.write(`stopping after ${results.size} of ${queries.length} queries (--stop-after-s ${stopAfterS})\n`);
      break;
    }
    const q = load(qid, true);
    const r = await runQuery(q, libraryFor(all, qid, librarySize), workers, options);
    results.set(qid, r);
    if (outFile) writeResults(outFile, results, heldOut, { librarySize, workers, options, baselineS });
    const cells = [...r.rows].map(([n, row]) => `${n} ${row[0].toFixed(2)}`);
    const storedCells = r.stored ? ` | on the stored grid ${[...r.stored.values()].map((x) => x[0].toFixed(2)).join(' ')}` : '';
    process.stdout.write(`query pt_${qid}: ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU (${(r.seconds / baselineS).toFixed(1)}x baseline), ${r.union} distinct templates chosen, ${r.flagged} flagged | Dice ${cells.join(', ')}${storedCells}\n`);
  }
  if (results.size > 0) {
    const rs = [...results.values()];
    table(`leave-one-out, library ${librarySize}`, rs);
    if (querySpacing) table('the same contours on the stored grid (a stored voxel is in when half its resampled voxels are)', rs, (r) => r.stored);
    const held = [...results].filter(([id]) => heldOut.has(id)).map(([, r]) => r);
    if (held.length > 0 && held.length < rs.length) table('the openkbp-library queries only (never used to choose settings)', held);
    const tuning = [...results].filter(([id]) => !heldOut.has(id)).map(([, r]) => r);
    if (tuning.length > 0 && tuning.length < rs.length) table('the openkbp queries only (the settings were chosen on these: optimistic)', tuning);
    const secs = rs.map((r) => r.seconds);
    process.stdout.write(`time per query (7 OARs, localize + segment): mean ${meanOf(secs).toFixed(1)} s, max ${Math.max(...secs).toFixed(1)} s (${(meanOf(secs) / baselineS).toFixed(1)}x baseline); CPU mean ${meanOf(rs.map((r) => r.cpuSeconds)).toFixed(1)} s\n`);
    process.stdout.write(`peak RSS so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
  }

  if (curve.length > 0) {
    process.stdout.write(`\nDice versus library size over queries ${curveQueries.map((x) => `pt_${x}`).join(', ')} (rotating subsets of the other patients)\n  size  mean Dice  s/query  CPU s/query  x baseline  templates chosen\n`);
    for (const size of curve) {
      const rs: QueryResult[] = [];
      for (const qid of curveQueries) {
        const cached = size === librarySize ? results.get(qid) : undefined;
        rs.push(cached ?? (await runQuery(load(qid), libraryFor(all, qid, size), workers, options)));
      }
      const dice = meanOf(rs.map((r) => meanOf([...r.rows.values()].map((row) => row[0]))));
      const secs = meanOf(rs.map((r) => r.seconds));
      const cpu = meanOf(rs.map((r) => r.cpuSeconds));
      const union = meanOf(rs.map((r) => r.union));
      process.stdout.write(`  ${String(size).padStart(4)}  ${dice.toFixed(3).padStart(9)}  ${secs.toFixed(1).padStart(7)}  ${cpu.toFixed(1).padStart(11)}  ${(secs / baselineS).toFixed(1).padStart(10)}  ${union.toFixed(1).padStart(16)}\n`);
    }
  }

  if (elastixQueries.length > 0) {
    if (!elastixAvailable()) {
      process.stdout.write('\nelastix peer skipped: `elastix`/`transformix` not on PATH (Debian package elastix; npm run setup installs it)\n');
    } else {
      process.stdout.write(`\nelastix peer (rigid + affine + B-spline, majority vote) vs this backend, ${elastixTemplates} templates per query (the same rotation for both)\n`);
      const ours: QueryResult[] = [];
      const peer: QueryResult[] = [];
      for (const qid of elastixQueries) {
        const q = load(qid);
        const lib = libraryFor(all, qid, elastixTemplates);
        const o = await runQuery(q, lib, workers, options);
        const e = await elastixMajorityVote(q, lib, workers);
        const rows = new Map<string, Row>();
        for (const [value, name] of Object.entries(q.names)) {
          const [dice, h, sd] = scoreMask(e.masks.get(name)!, binary(q.labels, Number(value)), q);
          const ref = referenceBox(q, Number(value));
          const mbox = maskBoxLps(e.masks.get(name)!, q.ct);
          rows.set(name, [dice, h, sd, Number.NaN, Number.NaN, ref && mbox ? boxIou(mbox, ref) : Number.NaN]);
        }
        ours.push(o);
        peer.push({ rows, seconds: e.seconds, cpuSeconds: Number.NaN, flagged: 0, union: lib.length });
        process.stdout.write(`query pt_${qid}: this backend ${o.seconds.toFixed(1)} s, elastix ${e.seconds.toFixed(1)} s\n`);
      }
      const dOurs = table('this backend on the elastix queries', ours);
      const dPeer = table('elastix peer (no localizer box: its masks only)', peer);
      const tOurs = meanOf(ours.map((r) => r.seconds));
      const tPeer = meanOf(peer.map((r) => r.seconds));
      process.stdout.write(`Dice ratio (this / elastix) ${(dOurs / dPeer).toFixed(3)}; time ratio ${(tOurs / tPeer).toFixed(3)} (${tOurs.toFixed(1)} s vs ${tPeer.toFixed(1)} s per query)\n`);
    }
  }
  process.stdout.write(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (elastix runs in child processes, not counted)\n`);
}
