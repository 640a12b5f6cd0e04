/**
 * `npm run bench -- limits [--stages import,medlam,sam,atlas] [--seconds S] [--import DIR]
 *   [--medlam DIR] [--structures N] [--sam DIR] [--slices N]`
 *
 * How close each stage runs to what this machine allows. It measures the machine's ceilings
 * (_limits-machine.ts: sustained ONNX Runtime MatMul FLOP/s, memory read bandwidth, page-cache file
 * reads), counts each model's FLOPs from its ONNX graph (electron/engine/models/flops.ts), and prints
 * per stage the measured time, the time its FLOPs (or bytes) would take at the measured ceiling, and
 * the ratio measured / ceiling (1.0 = at the machine's limit; the lower bound ignores memory-bound ops,
 * so a real kernel mix never reaches 1.0).
 *
 * Stages: import (importPaths + loadVolume of a DICOM folder, default ../shared/data/4dlung, against
 * one page-cache read of its files); MedLAM support features and query (the network's calls are
 * counted as they happen, each at its graph's FLOPs; the correlation convolutions too); MedSAM
 * encoder and decoder per call, and a whole-volume run's overhead over (encoder runs x encoder time +
 * decoder runs x decoder time); atlas registration of one template (sampling-bound JavaScript: its
 * floor is one read of both volumes, a loose bound).
 *
 * Each stage's ceilings are measured again just before and after it, and its ratio uses their mean:
 * on a shared machine the load drifts over minutes.
 *
 * Models: --medlam defaults to .models/medlam-bench (full size, from export_medlam.py; see
 * localize.ts) and falls back to the tiny fixture; `--medlam parity` takes ../shared/parity's small
 * MedLAM (base_chns 4) for a short run; --sam defaults to .models/sam-vitb-random
 * (export_sam.py) and falls back to ../shared/parity's small SAM (ViT, embed 64, depth 2). Which one
 * ran is printed on every row.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { REPO_ROOT, dataDir, parityDir } from '../helpers/data.js';
import { cachedReadTime, filesUnder, gemmPeak, median, randomArray, readBandwidth, repeat } from './_limits-machine.js';
import { importPaths } from '../../electron/engine/dicom/import.js';
import { openDatabase } from '../../electron/engine/store/db.js';
import { loadVolume } from '../../electron/engine/volume/load.js';
import { countGraphFlops, countModelFlops } from '../../electron/engine/models/flops.js';
import { parseOnnxModel } from '../../electron/engine/models/onnx-graph.js';
import { correlationModel } from '../../electron/engine/models/onnx-builder.js';
import { loadManifest, modelPath, requireModel, selectModel, sha256File } from '../../electron/engine/models/manifest.js';
import { MedlamLocalizer } from '../../electron/engine/localize/medlam.js';
import { MemorySupportCache } from '../../electron/engine/localize/support-cache.js';
import { SamOnnx } from '../../electron/engine/segment/sam-onnx.js';
import { medsamFromModelsDir } from '../../electron/engine/segment/factory.js';
import { EmbeddingCache } from '../../electron/engine/segment/embedding-cache.js';
import { createAtlasBackend } from '../../electron/engine/localize/atlas/index.js';
import { voxelToPatient } from '../../electron/engine/volume/geometry.js';
import { loadCase, templatesFrom, type Case } from '../integration/atlas/openkbp.js';
import type { Box } from '../../electron/engine/localize/localizer.js';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

interface Row {
  stage: string;
  work: string;
  measuredS: number;
  /** The stage's time at the machine's ceilings (GEMM FLOP/s, read bytes/s) measured beside it. */
  floor: (gemm: number, bw: number) => number;
  note: string;
}

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const gf = (f: number): string => `${(f / 1e9).toFixed(2)} GFLOP`;
const secs = (s: number): string => (s >= 10 ? s.toFixed(1) : s >= 0.1 ? s.toFixed(2) : s.toFixed(4));
const rssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

async function importStage(folder: string): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'delineate-limits-'));
  try {
    const once = async (i: number): Promise<{ s: number; voxels: number }> => {
      const db = openDatabase(join(dir, `a${i}.db`));
      const t = performance.now();
      const r = await importPaths(db, [folder]);
      let voxels = 0;
      for (const s of r.series) voxels += (await loadVolume(db, s.seriesUid)).data.length;
      const s = (performance.now() - t) / 1000;
      db.close();
      return { s, voxels };
    };
    await once(0); // warms the page cache, as the ceiling's read does
    const runs = [await once(1), await once(2), await once(3)];
    const files = filesUnder(folder);
    const read = cachedReadTime(files);
    const voxels = runs[0]!.voxels;
    // Floor: read every file once from the page cache, and write the volume once (int16) at the
    // measured memory bandwidth.
    return [{
      stage: 'import + assemble',
      work: `${files.length} files, ${(read.bytes / 2 ** 20).toFixed(0)} MB -> ${(voxels / 1e6).toFixed(1)} M voxels`,
      measuredS: median(runs.map((r) => r.s)),
      floor: (_g, bw) => read.seconds + (voxels * 2) / bw,
      note: `floor = page-cache read ${secs(read.seconds)} s + one int16 volume write; ${basename(folder)}`,
    }];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function medlamStage(dir: string, nStruct: number): Promise<Row[]> {
  const kbp = join(dataDir(), 'openkbp');
  const manifest = loadManifest(dir);
  const loc = await MedlamLocalizer.fromModelsDir(dir, { cache: new MemorySupportCache() });
  // The entries the localizer opened (a manifest may list float16 ones for GPU providers first).
  const full = loc.network.fullEntry;
  const fcEntry = (loc.network.hasFcGraph ? selectModel(manifest, 'medlam-fc', loc.network.provider) : undefined) ?? full;
  const c = loc.constants;
  const x = { [full.inputs?.[0] ?? 'x']: { shape: [1, 1, ...c.patchSize] } };
  const fullFlops = countModelFlops(modelPath(manifest, full), x).flops;
  const fcFlops = countModelFlops(modelPath(manifest, fcEntry), { [fcEntry.inputs?.[0] ?? 'x']: { shape: [1, 1, ...c.patchSize] } }).flops;
  const corrFlops = new Map<string, number>();
  const acc = { flops: 0, ortS: 0, fc: 0, full: 0, corr: 0 };
  const net = loc.network;
  const fcPosition = net.fcPosition.bind(net);
  const features = net.features.bind(net);
  const correlate = net.correlate.bind(net);
  const timed = async <T>(flops: number, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await fn();
    acc.ortS += (performance.now() - t) / 1000;
    acc.flops += flops;
    return r;
  };
  net.fcPosition = (p, size) => (acc.fc++, timed(fcFlops, () => fcPosition(p, size)));
  net.features = (p, size) => (acc.full++, timed(fullFlops, () => features(p, size)));
  net.correlate = (map, ch, size, kernel, k) => {
    const key = `${ch},${size},${k}`;
    let f = corrFlops.get(key);
    if (f === undefined) {
      f = countGraphFlops(parseOnnxModel(correlationModel(k)).graph, { x: { shape: [1, ch, size, size, size] }, w: { shape: [k, ch, 1, k, k] } }).flops;
      corrFlops.set(key, f);
    }
    acc.corr++;
    return timed(f, () => correlate(map, ch, size, kernel, k));
  };
  const tplCase = loadCase(kbp, '4');
  const query = loadCase(kbp, '17');
  const structures = templatesFrom([tplCase], false).slice(0, nStruct);
  const req = { seriesUid: query.seriesUid, query: query.ct, templateSet: 'limits', structures, mode: 'wpl' as const };
  const model = `${basename(dir)} (full ${gf(fullFlops)}, fc ${gf(fcFlops)} per 64^3 patch)`;
  const rows: Row[] = [];
  const stage = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
    Object.assign(acc, { flops: 0, ortS: 0, fc: 0, full: 0, corr: 0 });
    const t = performance.now();
    await fn();
    const s = (performance.now() - t) / 1000;
    const flops = acc.flops;
    rows.push({
      stage: name,
      work: `${acc.full} full + ${acc.fc} fc forwards, ${acc.corr} correlations = ${gf(acc.flops)}`,
      measuredS: s,
      floor: (g) => flops / g,
      note: `${model}; ONNX Runtime busy ${((100 * acc.ortS) / s).toFixed(0)}% of the wall time; ${nStruct} structures`,
    });
  };
  await stage('MedLAM support features', async () => {
    for (const s of structures) await loc.support(req, s);
  });
  await stage('MedLAM query (WPL)', () => loc.localize(req));
  return rows;
}

/**
 * The MedLAM models folder: the given one, or for `parity` a temporary manifest over the parity small
 * MedLAM (base_chns 4, float64 InstanceNorm, full graph only) with the tiny fixture's constants.
 */
function medlamDir(given: string | undefined): { dir: string; cleanup: () => void } {
  const fullSize = join(REPO_ROOT, '.models', 'medlam-bench');
  if (given !== 'parity') {
    const dir = given ?? (existsSync(join(fullSize, 'manifest.json')) ? fullSize : join(REPO_ROOT, 'test/fixtures/models/medlam-tiny'));
    return { dir, cleanup: () => undefined };
  }
  const file = join(parityDir(), 'models', 'medlam_small_in64.onnx');
  const tiny = loadManifest(join(REPO_ROOT, 'test/fixtures/models/medlam-tiny'));
  const dir = mkdtempSync(join(tmpdir(), 'delineate-limits-medlam-'));
  symlinkSync(file, join(dir, 'medlam_small_in64.onnx'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({
    format: 1,
    models: [{ ...requireModel(tiny, 'medlam-full'), name: 'parity-medlam-small', file: 'medlam_small_in64.onnx', sha256: sha256File(file) }],
  }));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The SAM models folder: the given/full-size one, or a temporary manifest over the parity small SAM. */
function samDir(given: string | undefined): { dir: string; label: string; cleanup: () => void } | undefined {
  const full = given ?? join(REPO_ROOT, '.models', 'sam-vitb-random');
  if (existsSync(join(full, 'manifest.json'))) return { dir: full, label: basename(full), cleanup: () => undefined };
  const p = join(parityDir(), 'models');
  const enc = join(p, 'sam_small_encoder.onnx');
  const dec = join(p, 'sam_small_decoder.onnx');
  if (!existsSync(enc) || !existsSync(dec)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'delineate-limits-sam-'));
  symlinkSync(enc, join(dir, 'enc.onnx'));
  symlinkSync(dec, join(dir, 'dec.onnx'));
  const io = (inputs: string[], outputs: string[]) => ({ inputs, outputs, precision: 'fp32' });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({
    format: 1,
    models: [
      { name: 'sam-small-encoder', role: 'sam-encoder', file: 'enc.onnx', sha256: sha256File(enc), ...io(['image'], ['image_embeddings']) },
      { name: 'sam-small-decoder', role: 'sam-decoder', file: 'dec.onnx', sha256: sha256File(dec), ...io(['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input', 'orig_im_size'], ['masks', 'iou_predictions', 'low_res_masks']) },
    ],
  }));
  return { dir, label: 'parity sam_small (ViT embed 64, depth 2)', cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function samStage(given: string | undefined, window: number, seconds: number): Promise<Row[]> {
  const m = samDir(given);
  if (!m) {
    out('  sam: no SAM models (neither --sam/.models/sam-vitb-random nor ../shared/parity); skipped');
    return [];
  }
  try {
    const manifest = loadManifest(m.dir);
    const encFile = modelPath(manifest, requireModel(manifest, 'sam-encoder'));
    const decFile = modelPath(manifest, requireModel(manifest, 'sam-decoder'));
    const encFlops = countModelFlops(encFile, { image: { shape: [1, 3, 1024, 1024] } }).flops;
    const decIn = { image_embeddings: { shape: [1, 256, 64, 64] }, point_coords: { shape: [1, 2, 2] }, point_labels: { shape: [1, 2] }, mask_input: { shape: [1, 1, 256, 256] }, has_mask_input: { shape: [1] }, orig_im_size: { shape: [2], values: [1024, 1024] } };
    const decFlops = countModelFlops(decFile, decIn).flops;
    const sam = await SamOnnx.open(encFile, decFile, { enableCpuMemArena: false });
    const img = randomArray(3 * 1024 * 1024, 5);
    let emb = await sam.encode(img);
    const encS = median(await repeat(async () => {
      emb = await sam.encode(img);
    }, seconds, 2));
    await sam.decodeBox(emb, [300, 300, 600, 700]);
    const decS = median(await repeat(async () => {
      await sam.decodeBox(emb, [300, 300, 600, 700]);
    }, seconds, 5));
    const rows: Row[] = [
      { stage: 'MedSAM encoder, per slice', work: gf(encFlops), measuredS: encS, floor: (g) => encFlops / g, note: m.label },
      { stage: 'MedSAM decoder, per box', work: gf(decFlops), measuredS: decS, floor: (g) => decFlops / g, note: m.label },
    ];

    // Whole-volume run on `window` slices of pt_17 with its 7 OARs' boxes: what the pipeline adds
    // over the model calls it makes (slice preparation, resizing, mask writing, cleanup).
    const kbp = join(dataDir(), 'openkbp');
    if (existsSync(join(kbp, 'pt_17_ct.nii.gz'))) {
      const q: Case = loadCase(kbp, '17');
      const [ni, nj, nk] = q.ct.dims;
      const bb = new Map<number, number[]>();
      for (let k = 0; k < nk; k++)
        for (let j = 0; j < nj; j++)
          for (let i = 0; i < ni; i++) {
            const v = q.labels.data[i + ni * (j + nj * k)]!;
            if (!v) continue;
            const b = bb.get(v) ?? [i, j, k, i, j, k];
            b[0] = Math.min(b[0]!, i); b[1] = Math.min(b[1]!, j); b[2] = Math.min(b[2]!, k);
            b[3] = Math.max(b[3]!, i); b[4] = Math.max(b[4]!, j); b[5] = Math.max(b[5]!, k);
            bb.set(v, b);
          }
      // The window of consecutive slices where the most structures overlap.
      let bestK = 0;
      let best = -1;
      for (let s = 0; s + window <= nk; s++) {
        let cnt = 0;
        for (const b of bb.values()) cnt += Math.max(0, Math.min(b[5]!, s + window - 1) - Math.max(b[2]!, s) + 1);
        if (cnt > best) [best, bestK] = [cnt, s];
      }
      const structures = [...bb.entries()].filter(([, b]) => b[5]! >= bestK && b[2]! <= bestK + window - 1).map(([v, b]) => {
        const box: Box = { min: voxelToPatient(q.ct, [b[0]!, b[1]!, Math.max(b[2]!, bestK)]), max: voxelToPatient(q.ct, [b[3]!, b[4]!, Math.min(b[5]!, bestK + window - 1)]) };
        return { name: q.names[v] ?? `label${v}`, boxes: [box] };
      });
      // The model calls are timed inside each run (the load of a shared machine drifts between
      // separate measurements): overhead = wall time / time spent in encoder and decoder calls.
      // Run twice side by side: slice preparation on the main thread, then in the worker.
      const proto = SamOnnx.prototype;
      const { encode, decodeBox } = proto;
      let inModel = 0;
      const timedCall = async <T>(fn: () => Promise<T>): Promise<T> => {
        const t0 = performance.now();
        try {
          return await fn();
        } finally {
          inModel += (performance.now() - t0) / 1000;
        }
      };
      proto.encode = function (this: SamOnnx, input) {
        return timedCall(() => encode.call(this, input));
      };
      proto.decodeBox = function (this: SamOnnx, e, box) {
        return timedCall(() => decodeBox.call(this, e, box));
      };
      try {
        for (const prepareAhead of [false, true]) {
          const seg = medsamFromModelsDir(m.dir, { cache: new EmbeddingCache({ maxEntries: 0 }), session: { enableCpuMemArena: false }, prepareAhead });
          await seg.ready();
          inModel = 0;
          const t = performance.now();
          await seg.segment({ seriesUid: q.seriesUid, volume: q.ct, structures });
          const wall = (performance.now() - t) / 1000;
          const flops = seg.encoderRuns * encFlops + seg.decoderRuns * decFlops;
          rows.push({
            stage: `MedSAM whole run, ${window} slices, preparation ${prepareAhead ? 'in a worker' : 'inline'}`,
            work: `${seg.encoderRuns} encoder + ${seg.decoderRuns} decoder runs = ${gf(flops)}`,
            measuredS: wall,
            floor: (g) => flops / g,
            note: `overhead over its own model calls (${secs(inModel)} s, timed in the run): ${(wall / inModel).toFixed(3)}x (target <= 1.10); ${m.label}`,
          });
        }
      } finally {
        Object.assign(proto, { encode, decodeBox });
      }
    }
    return rows;
  } finally {
    m.cleanup();
  }
}

async function atlasStage(): Promise<Row[]> {
  const kbp = join(dataDir(), 'openkbp');
  const tpl = loadCase(kbp, '4');
  const q = loadCase(kbp, '17');
  const { localizer, segmenter } = createAtlasBackend({ workers: 1 });
  const structures = templatesFrom([tpl], true);
  const t = performance.now();
  const loc = await localizer.localize({ seriesUid: q.seriesUid, query: q.ct, templateSet: 'limits', structures, mode: 'wpl' });
  await segmenter.segment({ seriesUid: q.seriesUid, volume: q.ct, structures: structures.map((s) => ({ name: s.name, boxes: loc.find((l) => l.name === s.name)!.boxes, members: s.members })) });
  const s = (performance.now() - t) / 1000;
  const bytes = 4 * (q.ct.data.length + tpl.ct.data.length);
  return [{
    stage: 'atlas registration + fusion, 1 template',
    work: `${structures.length} structures, ${((q.ct.data.length + tpl.ct.data.length) / 1e6).toFixed(1)} M voxels`,
    measuredS: s,
    floor: (_g, bw) => bytes / bw,
    note: 'floor = one float32 read of both volumes (sampling-bound JavaScript, no GEMM: a loose bound)',
  }];
}

function line(r: Row, g: number, b: number): string {
  const floor = r.floor(g, b);
  return `| ${r.stage} | ${r.work} | ${secs(r.measuredS)} | ${secs(floor)} | ${(r.measuredS / floor).toFixed(1)} | ${r.note}; peak ${(g / 1e9).toFixed(1)} GFLOP/s, ${(b / 1e9).toFixed(1)} GB/s |`;
}

export async function bench(args: string[]): Promise<void> {
  const stages = (flag(args, 'stages') ?? 'import,medlam,sam,atlas').split(',');
  const seconds = Number(flag(args, 'seconds') ?? 3);
  out(`limits bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start`);
  const gemm = await gemmPeak((flag(args, 'gemm') ?? '1024,2048').split(',').map(Number), seconds);
  for (const r of gemm.rows) out(`  ${r}`);
  const bw = await readBandwidth(256, seconds);
  out(`  sustained GEMM peak: ${(gemm.best.rate / 1e9).toFixed(1)} GFLOP/s (${gemm.best.detail}); read bandwidth ${(bw.rate / 1e9).toFixed(1)} GB/s (${bw.detail})`);
  const peakSize = Number(gemm.best.detail.match(/\d+/)?.[0] ?? 2048);

  // Each stage's ceilings are measured again just before and after it (means of the two), because
  // on a shared machine the load drifts over minutes: measured / peak compares like with like.
  const rows: { row: Row; gemm: number; bw: number }[] = [];
  const run = async (name: string, fn: () => Promise<Row[]>): Promise<void> => {
    const g0 = (await gemmPeak([peakSize], 1)).best.rate;
    const b0 = (await readBandwidth(256, 0.5)).rate;
    const got = await fn();
    const g1 = (await gemmPeak([peakSize], 1)).best.rate;
    const b1 = (await readBandwidth(256, 0.5)).rate;
    const g = (g0 + g1) / 2;
    const b = (b0 + b1) / 2;
    out(`  ${name}: done; GEMM ${(g0 / 1e9).toFixed(1)} -> ${(g1 / 1e9).toFixed(1)} GFLOP/s, read ${(b0 / 1e9).toFixed(1)} -> ${(b1 / 1e9).toFixed(1)} GB/s around it`);
    for (const row of got) {
      rows.push({ row, gemm: g, bw: b });
      out(`    ${line(row, g, b)}`); // printed as soon as known: a long run can be stopped without losing them
    }
  };
  if (stages.includes('import')) {
    const folder = flag(args, 'import') ?? join(dataDir(), '4dlung');
    if (existsSync(folder)) await run('import', () => importStage(folder));
    else out(`  import: ${folder} is absent; skipped`);
  }
  const kbpOk = existsSync(join(dataDir(), 'openkbp', 'pt_4_ct.nii.gz'));
  if (stages.includes('medlam')) {
    if (kbpOk) {
      const m = medlamDir(flag(args, 'medlam'));
      try {
        await run('medlam', () => medlamStage(m.dir, Number(flag(args, 'structures') ?? 2)));
      } finally {
        m.cleanup();
      }
    } else out('  medlam: ../shared/data/openkbp is absent; skipped');
  }
  if (stages.includes('sam')) await run('sam', () => samStage(flag(args, 'sam'), Number(flag(args, 'slices') ?? 4), seconds));
  if (stages.includes('atlas')) {
    if (kbpOk) await run('atlas', () => atlasStage());
    else out('  atlas: ../shared/data/openkbp is absent; skipped');
  }

  out('');
  out('| stage | work | measured (s) | at the measured peak (s) | measured / peak | notes |');
  out('| --- | --- | ---: | ---: | ---: | --- |');
  for (const { row, gemm: g, bw: b } of rows) out(line(row, g, b));
  out('');
  out(`peak RSS ${rssMb()} MB; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end (the CPUs are shared with other processes)`);
}
