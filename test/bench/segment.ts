/**
 * `npm run bench -- segment [--slices N] [--models DIR] [--ct FILE --labels FILE]`: MedSAM on 7 head
 * and neck structures of an OpenKBP CT with full-size SAM ViT-B ONNX models (random weights cost the
 * same as real ones), ours (one encoder run per slice, shared by every structure) against the
 * reference's way (one encoder run per structure per slice, MedLSAM_WPL_Inference.py), in the same
 * process, as a ratio; plus peak RSS and a warm re-run (second template set: embeddings cached).
 *
 * The ViT-B encoder takes seconds per slice on 2 threads, so the run is bounded: boxes are the
 * structures' ground-truth bounding boxes, clipped in z to the N consecutive slices (default 4) that
 * the most structures share. The whole-volume encoder counts (sum of structure slices vs distinct
 * slices) are printed too, since that is where the ratio comes from.
 *
 * Models: `python3 models/export/export_sam.py --random-seed 0 --model-type vit_b --out .models/sam-vitb-random
 * --name sam-vitb-random` (needs the segment_anything package; never committed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, dataDir } from '../helpers/data.js';
import { readNifti, readNiftiLabels } from '../../electron/engine/nifti/nifti.js';
import { EmbeddingCache } from '../../electron/engine/segment/embedding-cache.js';
import { medsamFromModelsDir } from '../../electron/engine/segment/factory.js';
import { voxelToPatient } from '../../electron/engine/volume/geometry.js';
import type { Box } from '../../electron/engine/localize/localizer.js';

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

export async function bench(args: string[]): Promise<void> {
  const models = arg(args, 'models') ?? join(REPO_ROOT, '.models', 'sam-vitb-random');
  const ctFile = arg(args, 'ct') ?? join(dataDir(), 'openkbp', 'pt_17_ct.nii.gz');
  const labelsFile = arg(args, 'labels') ?? join(dataDir(), 'openkbp', 'pt_17_oar_labels.nii.gz');
  const namesFile = join(dataDir(), 'openkbp', 'oar_names.json');
  const window = Number(arg(args, 'slices') ?? 4);
  if (!existsSync(join(models, 'manifest.json'))) {
    process.stdout.write(`segment bench skipped: no models in ${models}; export them with models/export/export_sam.py (see this file's header)\n`);
    return;
  }
  if (!existsSync(ctFile) || !existsSync(labelsFile)) {
    process.stdout.write(`segment bench skipped: ${ctFile} or ${labelsFile} is absent\n`);
    return;
  }
  const ct = readNifti(ctFile);
  const labels = readNiftiLabels(labelsFile);
  const names = existsSync(namesFile) ? (JSON.parse(readFileSync(namesFile, 'utf8')) as Record<string, string>) : {};
  const [ni, nj, nk] = ct.dims;

  // Inclusive voxel bounding box of every label.
  const bb = new Map<number, number[]>();
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        const v = labels.data[i + ni * (j + nj * k)]!;
        if (!v) continue;
        const b = bb.get(v) ?? [i, j, k, i, j, k];
        b[0] = Math.min(b[0]!, i); b[1] = Math.min(b[1]!, j); b[2] = Math.min(b[2]!, k);
        b[3] = Math.max(b[3]!, i); b[4] = Math.max(b[4]!, j); b[5] = Math.max(b[5]!, k);
        bb.set(v, b);
      }
  const structs = [...bb.entries()].filter(([v]) => v >= 1 && v <= 7).sort((a, b) => a[0] - b[0]);
  const sumSlices = structs.reduce((a, [, b]) => a + (b[5]! - b[2]! + 1), 0);
  const distinct = new Set(structs.flatMap(([, b]) => Array.from({ length: b[5]! - b[2]! + 1 }, (_, d) => b[2]! + d))).size;

  // The window of `window` consecutive slices covered by the most (structure, slice) pairs.
  let best = 0;
  let bestStart = 0;
  for (let s = 0; s + window <= nk; s++) {
    let c = 0;
    for (const [, b] of structs) c += Math.max(0, Math.min(b[5]!, s + window - 1) - Math.max(b[2]!, s) + 1);
    if (c > best) { best = c; bestStart = s; }
  }
  const z0 = bestStart;
  const z1 = bestStart + window - 1;
  // Each structure's ground-truth box, clipped in z to [k0, k1] (LPS corners, as a localizer gives them).
  const boxesIn = (k0: number, k1: number) =>
    structs
      .filter(([, b]) => b[5]! >= k0 && b[2]! <= k1)
      .map(([v, b]) => {
        const box: Box = {
          min: voxelToPatient(ct, [b[0]!, b[1]!, Math.max(b[2]!, k0)]),
          max: voxelToPatient(ct, [b[3]!, b[4]!, Math.min(b[5]!, k1)]),
        };
        return { name: names[String(v)] ?? `label${v}`, boxes: [box] };
      });
  const inputs = boxesIn(z0, z1);

  process.stdout.write(`segment bench: ${ctFile} (${ni}x${nj}x${nk}), models ${models}, ${cpus().length} CPUs\n`);
  process.stdout.write(`  whole volume: ${structs.length} structures cover ${sumSlices} structure-slices on ${distinct} distinct slices ` +
    `-> encoder runs ${sumSlices} (reference) vs ${distinct} (shared): ${(sumSlices / distinct).toFixed(2)}x fewer\n`);
  process.stdout.write(`  measured window: slices ${z0}..${z1} (${window} slices), ${inputs.length} structures, ${best} structure-slices\n`);

  const make = (share: boolean) =>
    medsamFromModelsDir(models, {
      cache: new EmbeddingCache({ maxEntries: 64 }), // memory only: the disk cache would make re-runs free
      shareEmbeddings: share,
      session: { enableCpuMemArena: false },
    });

  const ours = make(true);
  const ref = make(false);
  // Session creation (seconds for ViT-B) is shared and not part of either figure.
  await ours.ready();
  await ref.ready();
  // The CPUs are shared with other work, so the two ways are interleaved slice by slice (each slice:
  // ours, then the reference's way, on the same boxes) and both wall and CPU time are summed; CPU time
  // (all ONNX Runtime threads included) is far less sensitive to other processes than wall time.
  interface Cost { wall: number; cpu: number }
  const measure = async (fn: () => Promise<unknown>): Promise<Cost> => {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await fn();
    const c = process.cpuUsage(c0);
    return { wall: performance.now() - w0, cpu: (c.user + c.system) / 1000 };
  };
  const add = (a: Cost, b: Cost): Cost => ({ wall: a.wall + b.wall, cpu: a.cpu + b.cpu });
  let oursCost: Cost = { wall: 0, cpu: 0 };
  let refCost: Cost = { wall: 0, cpu: 0 };
  for (let k = z0; k <= z1; k++) {
    const structuresOnK = boxesIn(k, k);
    oursCost = add(oursCost, await measure(() => ours.segment({ seriesUid: 'bench', volume: ct, structures: structuresOnK })));
    refCost = add(refCost, await measure(() => ref.segment({ seriesUid: 'bench', volume: ct, structures: structuresOnK })));
  }
  const rssOurs = peakRssMb();
  let res: Awaited<ReturnType<typeof ours.segment>> = [];
  const warm = await measure(async () => {
    res = await ours.segment({ seriesUid: 'bench', volume: ct, structures: inputs });
  });

  // Per-item costs from this run: a decode (the warm re-run does only decodes), an encode (ours minus
  // its decodes, per slice), a reference item (encode + decode per structure-slice).
  const s = (ms: number): string => (ms / 1000).toFixed(1);
  for (const what of ['wall', 'cpu'] as const) {
    const perDecode = warm[what] / Math.max(1, best);
    const perEncode = (oursCost[what] - warm[what]) / window;
    const perRefItem = refCost[what] / Math.max(1, best);
    const fullOurs = distinct * perEncode + sumSlices * perDecode;
    const fullRef = sumSlices * perRefItem;
    process.stdout.write(`  [${what} time]\n`);
    process.stdout.write(`    ours:            ${s(oursCost[what])} s  (${window} encoder runs, ${best} decoder runs)\n`);
    process.stdout.write(`    reference's way: ${s(refCost[what])} s  (${best} encoder runs)\n`);
    process.stdout.write(`    ratio reference/ours on the window: ${(refCost[what] / oursCost[what]).toFixed(2)}x\n`);
    process.stdout.write(`    warm re-run (second template set, embeddings cached): ${(warm[what] / 1000).toFixed(2)} s = ` +
      `${(refCost[what] / warm[what]).toFixed(0)}x faster than the reference's way\n`);
    process.stdout.write(`    whole volume from per-item costs (encode ${s(perEncode)} s, decode ${(perDecode / 1000).toFixed(3)} s): ` +
      `ours ${s(fullOurs)} s vs reference ${s(fullRef)} s = ${(fullRef / fullOurs).toFixed(2)}x\n`);
  }
  process.stdout.write(`  load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other processes share these CPUs)\n`);
  process.stdout.write(`  peak RSS after ours: ${rssOurs.toFixed(0)} MB; after both: ${peakRssMb().toFixed(0)} MB\n`);
  process.stdout.write(`  masks: ${res.map((r) => `${r.name} ${r.voxels}`).join(', ')}\n`);
}
