/**
 * `npm run bench -- atlas --variants '[{...}, {...}]' [--variant-queries 4,13] [--variant-library 5]`:
 * segmentation settings side by side on the same queries and the same registrations. Each query is
 * localized once; every variant (a patch of the atlas options, the first usually {} = the
 * defaults) then segments it with the same transform cache, so the variants differ only in what
 * they change after the affine stages (demons, fusion). Prints per variant the mean Dice per OAR
 * and the CPU seconds of its segmentation stage (process.cpuUsage: all threads, not wall time).
 * Settings are to be chosen on the openkbp/ queries only (the default); the openkbp-library
 * patients stay held out.
 */
import { AtlasLocalizer, AtlasSegmenter, type AtlasOptions } from '../../electron/engine/localize/atlas/index.js';
import { TransformCache } from '../../electron/engine/localize/atlas/templates.js';
import { binary, diceOf, referenceBox, streamedTemplates, type Case, type LibraryCase } from '../integration/atlas/openkbp.js';
import { boxIou, maskBoxLps } from '../../electron/engine/metrics/boxes.js';

export interface VariantRun {
  queries: string[];
  load(id: string): Case;
  libraryFor(qid: string): LibraryCase[];
  workers: number;
  base: Partial<AtlasOptions>;
}

export async function compareVariants(variants: Partial<AtlasOptions>[], run: VariantRun): Promise<void> {
  const dice = variants.map(() => new Map<string, number[]>());
  const boxes = variants.map(() => new Map<string, number[]>());
  const cpu = variants.map(() => 0);
  for (const qid of run.queries) {
    const q = run.load(qid);
    const cache = new TransformCache();
    const structures = streamedTemplates(run.libraryFor(qid));
    // The localizer only registers here (its boxes from the affine masks): every variant segments.
    const localizer = new AtlasLocalizer({ workers: run.workers, options: { ...run.base, boxFromSegmentation: false } }, cache);
    const loc = await localizer.localize({ seriesUid: q.seriesUid, query: q.ct, templateSet: 'openkbp', structures, mode: 'wpl' });
    const line: string[] = [];
    for (let v = 0; v < variants.length; v++) {
      const segmenter = new AtlasSegmenter({ workers: run.workers, options: { ...run.base, ...variants[v] } }, cache);
      const c0 = process.cpuUsage();
      const seg = await segmenter.segment({
        seriesUid: q.seriesUid, volume: q.ct,
        structures: structures.map((s) => ({ name: s.name, boxes: loc.find((l) => l.name === s.name)!.boxes, members: s.members })),
      });
      const c = process.cpuUsage(c0);
      cpu[v] = cpu[v]! + (c.user + c.system) / 1e6;
      let sum = 0;
      for (const [value, name] of Object.entries(q.names)) {
        const d = diceOf(seg.find((x) => x.name === name)!.mask, binary(q.labels, Number(value)));
        sum += d;
        const list = dice[v]!.get(name) ?? [];
        list.push(d);
        dice[v]!.set(name, list);
        const ref = referenceBox(q, Number(value));
        const mbox = maskBoxLps(seg.find((x) => x.name === name)!.mask, q.ct);
        boxes[v]!.set(name, [...(boxes[v]!.get(name) ?? []), ref && mbox ? boxIou(mbox, ref) : 0]);
      }
      line.push(`variant ${v} ${(sum / Object.keys(q.names).length).toFixed(3)}`);
    }
    process.stdout.write(`query pt_${qid}: mean Dice ${line.join(', ')}\n`);
  }
  const names = [...dice[0]!.keys()];
  process.stdout.write(`\nvariants on queries ${run.queries.map((x) => `pt_${x}`).join(', ')}: mean Dice per OAR, segmentation CPU s per query\n`);
  process.stdout.write(`  ${'variant'.padEnd(8)} ${names.map((n) => n.slice(0, 10).padStart(10)).join(' ')}       MEAN  CPU s\n`);
  const mean = (m: Map<string, number[]>, n: string): number => m.get(n)!.reduce((a, b) => a + b, 0) / m.get(n)!.length;
  variants.forEach((v, i) => {
    const per = names.map((n) => mean(dice[i]!, n));
    const all = per.reduce((a, b) => a + b, 0) / per.length;
    process.stdout.write(`  ${String(i).padEnd(8)} ${per.map((d) => d.toFixed(3).padStart(10)).join(' ')} ${all.toFixed(3).padStart(10)}  ${(cpu[i]! / run.queries.length).toFixed(1).padStart(5)}  ${JSON.stringify(v)}\n`);
  });
  process.stdout.write('  box IoU of the segmented contour per OAR (the atlas localizer\'s box with boxFromSegmentation)\n');
  variants.forEach((_, i) => {
    const per = names.map((n) => mean(boxes[i]!, n));
    process.stdout.write(`  ${String(i).padEnd(8)} ${per.map((d) => d.toFixed(3).padStart(10)).join(' ')} ${(per.reduce((a, b) => a + b, 0) / per.length).toFixed(3).padStart(10)}\n`);
  });
}
