/**
 * `npm run bench -- atlas [--templates N] [--queries 4,13] [--workers N] [--options JSON]`
 *
 * The weight-free atlas backend on OpenKBP (../shared/data/openkbp, 6 head-and-neck patients, 7
 * OARs): each patient in turn is the query and the others the templates (leave-one-out, N = 5; with
 * N = 3 the three templates rotate). Prints per query the localize and segment times beside a
 * baseline measured in the same run (one global rigid registration of one template pair, the
 * cheapest registration the backend does), per OAR box IoU, wall distance, Dice and HD95 (the
 * evaluation metrics of electron/engine/metrics), and the process's peak RSS (workers included:
 * they are threads of this process).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createAtlasBackend, type AtlasOptions } from '../../electron/engine/localize/atlas/index.js';
import { registerAffine } from '../../electron/engine/registration/affine.js';
import { clipNormalize } from '../../electron/engine/registration/image.js';
import { boxIou, wallDistanceMm } from '../../electron/engine/metrics/boxes.js';
import { dataDir } from '../helpers/data.js';
import { binary, diceOf, hd95Of, loadCase, OPENKBP_PATIENTS, referenceBox, templatesFrom } from '../integration/atlas/openkbp.js';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function bench(args: string[]): Promise<void> {
  const dir = join(dataDir(), 'openkbp');
  if (!existsSync(join(dir, 'pt_4_ct.nii.gz'))) {
    process.stdout.write(`atlas bench skipped: ${dir} is absent\n`);
    return;
  }
  const nTemplates = Number(flag(args, 'templates') ?? 5);
  const queries = (flag(args, 'queries') ?? OPENKBP_PATIENTS.join(',')).split(',');
  const workers = Number(flag(args, 'workers') ?? 2);
  const options = JSON.parse(flag(args, 'options') ?? '{}') as Partial<AtlasOptions>;
  const cases = OPENKBP_PATIENTS.map((id) => loadCase(dir, id));

  const t0 = performance.now();
  const a = cases[0]!;
  const b = cases[1]!;
  registerAffine(clipNormalize(a.ct, -200, 1500), clipNormalize(b.ct, -200, 1500), { rigidOnly: true });
  const baselineS = (performance.now() - t0) / 1000;
  process.stdout.write(`baseline: one global rigid registration (pt_${a.id} <- pt_${b.id}) ${baselineS.toFixed(2)} s\n`);
  process.stdout.write(`templates per query: ${nTemplates}, worker threads: ${workers}, options ${JSON.stringify(options)}\n`);

  const perOar = new Map<string, number[][]>();
  const times: number[] = [];
  for (const qid of queries) {
    const q = cases.find((c) => c.id === qid);
    if (!q) throw new Error(`no OpenKBP patient ${qid}`);
    const rest = cases.filter((c) => c !== q);
    const start = cases.indexOf(q) % rest.length;
    const templates = nTemplates >= rest.length ? rest : [...rest, ...rest].slice(start, start + nTemplates);
    const { localizer, segmenter } = createAtlasBackend({ workers, options });
    const s0 = performance.now();
    const loc = await localizer.localize({ seriesUid: q.seriesUid, query: q.ct, templateSet: 'openkbp', structures: templatesFrom(templates, true), mode: 'wpl' });
    const s1 = performance.now();
    // Points-only templates (clicked, not derived from contours): reuses the cached registrations.
    const locPts = await localizer.localize({ seriesUid: q.seriesUid, query: q.ct, templateSet: 'openkbp', structures: templatesFrom(templates, false), mode: 'wpl' });
    const s1b = performance.now();
    const seg = await segmenter.segment({
      seriesUid: q.seriesUid, volume: q.ct,
      structures: templatesFrom(templates, true).map((s) => ({ name: s.name, boxes: loc.find((l) => l.name === s.name)!.boxes, members: s.members })),
    });
    const s2 = performance.now();
    const total = (s2 - s0) / 1000 - (s1b - s1) / 1000;
    times.push(total);
    const cells: string[] = [];
    for (const [value, name] of Object.entries(q.names)) {
      const ref = referenceBox(q, Number(value))!;
      const l = loc.find((x) => x.name === name)!;
      const m = seg.find((x) => x.name === name)!;
      const gt = binary(q.labels, Number(value));
      const lp = locPts.find((x) => x.name === name)!;
      const row = [boxIou(l.boxes[0]!, ref), wallDistanceMm(l.boxes[0]!, ref), diceOf(m.mask, gt), hd95Of(m.mask, gt, q.ct), boxIou(lp.boxes[0]!, ref), wallDistanceMm(lp.boxes[0]!, ref)];
      perOar.set(name, [...(perOar.get(name) ?? []), row]);
      cells.push(`${name} ${row[0]!.toFixed(2)}/${row[2]!.toFixed(2)}`);
    }
    process.stdout.write(
      `query pt_${q.id} (templates ${templates.map((c) => c.id).join(',')}): localize ${((s1 - s0) / 1000).toFixed(1)} s + segment ${((s2 - s1b) / 1000).toFixed(1)} s = ${total.toFixed(1)} s (${(total / baselineS).toFixed(1)}x baseline) | IoU/Dice ${cells.join(', ')}\n`,
    );
  }
  process.stdout.write(
    `\nper OAR over ${queries.length} queries: box IoU, wall distance (mm), Dice, HD95 (mm); then box IoU and wall distance from points-only templates\n`,
  );
  const mean = [0, 0, 0, 0, 0, 0];
  const fmt = (m: number[]): string =>
    `${m[0]!.toFixed(3)}  ${m[1]!.toFixed(1).padStart(5)}  ${m[2]!.toFixed(3)}  ${m[3]!.toFixed(1).padStart(5)}  |  ${m[4]!.toFixed(3)}  ${m[5]!.toFixed(1).padStart(5)}`;
  for (const [name, rows] of perOar) {
    const m = [0, 1, 2, 3, 4, 5].map((i) => rows.reduce((acc, r) => acc + r[i]!, 0) / rows.length);
    m.forEach((v, i) => (mean[i] = mean[i]! + v / perOar.size));
    process.stdout.write(`  ${name.padEnd(14)} ${fmt(m)}\n`);
  }
  process.stdout.write(`  ${'MEAN'.padEnd(14)} ${fmt(mean)}\n`);
  const avg = times.reduce((x, y) => x + y, 0) / times.length;
  process.stdout.write(`time per query (7 OARs, localize + segment): mean ${avg.toFixed(1)} s, max ${Math.max(...times).toFixed(1)} s (${(avg / baselineS).toFixed(1)}x baseline)\n`);
  process.stdout.write(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
}
