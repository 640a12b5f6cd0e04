/**
 * The MedLAM network through ONNX Runtime: the full graph (fc_position + feature0..2) for template
 * kernels and the multi-scale similarity, and an fc-only graph for the coarse stage when the models
 * folder has one (role medlam-fc: asking the full graph for fc_position alone still runs its decoder,
 * 2.7 s vs 0.3 s per patch on 2 threads). Batch 1 throughout: no per-patch gain from batching, and
 * batch 10 reached 9.4 GB (NOTES.md).
 */
import { ModelError } from '../errors.js';
import { modelPath, requireSelected, selectModel, type ExecutionProvider, type ModelEntry, type ModelManifest } from '../models/manifest.js';
import { chooseExecutionProviders, openSession, ort, runSession, type Session, type SessionOptions } from '../models/session.js';
import { correlationModel } from '../models/onnx-builder.js';
import type { Shape3 } from '../volume/resample.js';

export interface Features {
  fc: Float32Array; // [3]
  /** feature0 (1/4 res), feature1 (1/2), feature2 (full): C-order [C, S, S, S]. */
  maps: Float32Array[];
  channels: number;
  sizes: number[]; // S per scale
}

export class MedlamNet {
  private constructor(
    private readonly full: { entry: ModelEntry; file: string; session: Session },
    private readonly fcOnly: { entry: ModelEntry; file: string; session: Session } | undefined,
    private readonly correlation: Map<number, Session>,
    /** The execution provider the graphs were selected for. */
    readonly provider: ExecutionProvider = 'cpu',
  ) {}

  /**
   * Opens the graphs the manifest selects for the execution provider in use (selectModel: a float16
   * entry listed for GPU providers is skipped on CPU).
   */
  static async open(manifest: ModelManifest, opts: SessionOptions = {}): Promise<MedlamNet> {
    const providers = opts.executionProviders ?? chooseExecutionProviders(process.env, manifest.executionProviders);
    const o: SessionOptions = { ...opts, executionProviders: providers };
    const fe = requireSelected(manifest, 'medlam-full', providers[0]!);
    const ffile = modelPath(manifest, fe);
    const full = { entry: fe, file: ffile, session: await openSession(ffile, o) };
    const ce = selectModel(manifest, 'medlam-fc', providers[0]!);
    let fc: typeof full | undefined;
    if (ce) {
      const cfile = modelPath(manifest, ce);
      fc = { entry: ce, file: cfile, session: await openSession(cfile, o) };
    }
    return new MedlamNet(full, fc, new Map(), providers[0]);
  }

  /** The manifest entry of the full graph in use. */
  get fullEntry(): ModelEntry {
    return this.full.entry;
  }

  /** Whether the coarse stage runs on a separate fc-only graph. */
  get hasFcGraph(): boolean {
    return this.fcOnly !== undefined;
  }

  private outName(entry: ModelEntry, wanted: string): string {
    const n = entry.outputs.find((o) => o === wanted) ?? entry.outputs.find((o) => o.startsWith(wanted));
    if (!n) throw new ModelError(`model ${entry.name} has no output ${wanted} (outputs: ${entry.outputs.join(', ')})`, { model: entry.name });
    return n;
  }

  private feed(entry: ModelEntry, patch: Float32Array, size: Shape3): Record<string, ort.Tensor> {
    const input = entry.inputs[0];
    if (!input) throw new ModelError(`model ${entry.name} lists no input`, { model: entry.name });
    return { [input]: new ort.Tensor('float32', patch, [1, 1, size[0], size[1], size[2]]) };
  }

  /** fc_position of one patch, on the fc-only graph when there is one. */
  async fcPosition(patch: Float32Array, size: Shape3): Promise<Float32Array> {
    const m = this.fcOnly ?? this.full;
    const name = this.outName(m.entry, 'fc_position');
    const out = await runSession(m.session, m.file, this.feed(m.entry, patch, size), [name]);
    const t = out[name];
    if (!t) throw new ModelError(`model ${m.entry.name} returned no ${name}`, { model: m.entry.name });
    const v = Float32Array.from(t.data as Float32Array);
    for (const x of Object.values(out)) x.dispose();
    return v;
  }

  /** fc_position and the three feature maps of one patch on the full graph. */
  async features(patch: Float32Array, size: Shape3): Promise<Features> {
    const e = this.full.entry;
    const names = ['fc_position', 'feature0', 'feature1', 'feature2'].map((n) => this.outName(e, n));
    const out = await runSession(this.full.session, this.full.file, this.feed(e, patch, size), names);
    const get = (n: string): ort.Tensor => {
      const t = out[n];
      if (!t) throw new ModelError(`model ${e.name} returned no ${n}`, { model: e.name });
      return t;
    };
    const fc = Float32Array.from(get(names[0]!).data as Float32Array);
    const maps: Float32Array[] = [];
    const sizes: number[] = [];
    let channels = 0;
    for (const n of names.slice(1)) {
      const t = get(n);
      channels = Number(t.dims[1]);
      sizes.push(Number(t.dims[2]));
      maps.push(t.data as Float32Array);
    }
    return { fc, maps, channels, sizes };
  }

  /**
   * Cross-correlation of a [C, S, S, S] map with one [C, k, k, k] kernel, zero padding k/2 on every
   * side: output [(S+1)^3] for even k (onnx-builder.ts correlationModel: k depth slabs summed here).
   */
  async correlate(map: Float32Array, channels: number, size: number, kernel: Float32Array, k: number): Promise<Float32Array> {
    let s = this.correlation.get(k);
    if (!s) {
      s = await ort.InferenceSession.create(correlationModel(k), { executionProviders: ['cpu'], enableCpuMemArena: false });
      this.correlation.set(k, s);
    }
    const kk = k * k;
    const w = new Float32Array(channels * k * kk);
    for (let c = 0; c < channels; c++) {
      for (let tz = 0; tz < k; tz++) w.set(kernel.subarray((c * k + tz) * kk, (c * k + tz + 1) * kk), (tz * channels + c) * kk);
    }
    const out = await runSession(s, `correlation_k${k}`, {
      x: new ort.Tensor('float32', map, [1, channels, size, size, size]),
      w: new ort.Tensor('float32', w, [k, channels, 1, k, k]),
    });
    const y = out.y;
    if (!y) throw new ModelError('correlation graph returned no output');
    const [, , zp, ho, wo] = y.dims.map(Number) as [number, number, number, number, number];
    const slabs = y.data as Float32Array;
    const nz = zp - k + 1;
    const plane = ho * wo;
    const res = new Float32Array(nz * plane);
    for (let tz = 0; tz < k; tz++) {
      for (let oz = 0; oz < nz; oz++) {
        const src = (tz * zp + oz + tz) * plane;
        const dst = oz * plane;
        for (let i = 0; i < plane; i++) res[dst + i] = Math.fround(res[dst + i]! + slabs[src + i]!);
      }
    }
    return res;
  }

  models(): { name: string; sha256: string }[] {
    const list = [{ name: this.full.entry.name, sha256: this.full.entry.sha256 }];
    if (this.fcOnly) list.push({ name: this.fcOnly.entry.name, sha256: this.fcOnly.entry.sha256 });
    return list;
  }

  /** The key that support caches are stored under: changes whenever either graph changes. */
  get modelHash(): string {
    return this.fcOnly ? `${this.full.entry.sha256}+${this.fcOnly.entry.sha256}` : this.full.entry.sha256;
  }
}

/** The half-open 64^3 crop [c - 32, c + 32) of a padded [z, y, x] volume; outside voxels read as 0. */
export function cropPatch(vol: Float32Array, shape: Shape3, centre: readonly number[], size: Shape3): Float32Array {
  const out = new Float32Array(size[0] * size[1] * size[2]);
  const s0 = centre[0]! - size[0] / 2;
  const s1 = centre[1]! - size[1] / 2;
  const s2 = centre[2]! - size[2] / 2;
  let o = 0;
  for (let a = 0; a < size[0]; a++) {
    const z = s0 + a;
    for (let b = 0; b < size[1]; b++) {
      const y = s1 + b;
      if (z < 0 || z >= shape[0] || y < 0 || y >= shape[1]) {
        o += size[2];
        continue;
      }
      const row = (z * shape[1] + y) * shape[2];
      for (let c = 0; c < size[2]; c++) {
        const x = s2 + c;
        out[o++] = x >= 0 && x < shape[2] ? vol[row + x]! : 0;
      }
    }
  }
  return out;
}

/** F.normalize over channels (eps 1e-12) of a [C, S, S, S] map, in place. */
export function normaliseChannels(map: Float32Array, channels: number, voxels: number): Float32Array {
  for (let v = 0; v < voxels; v++) {
    let ss = 0;
    for (let c = 0; c < channels; c++) {
      const x = map[c * voxels + v]!;
      ss += x * x;
    }
    const n = Math.max(Math.fround(Math.sqrt(ss)), 1e-12);
    for (let c = 0; c < channels; c++) map[c * voxels + v] = Math.fround(map[c * voxels + v]! / n);
  }
  return map;
}
