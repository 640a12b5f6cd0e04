/**
 * ONNX Runtime sessions: created once per (file, options) and reused for every query, because
 * creating one parses and optimises the graph (seconds for ViT-B). The execution provider is chosen
 * from what this onnxruntime-node build offers (DESIGN.md "Models": CUDA on Linux/Windows, DirectML
 * on Windows, CoreML on macOS, CPU everywhere) and can be forced with DELINEATE_EP=cpu|cuda|dml|coreml.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../errors.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from './manifest.js';

export type { ExecutionProvider };

export interface SessionOptions {
  executionProviders?: ExecutionProvider[];
  intraOpNumThreads?: number;
  /** The CPU arena keeps peak allocations for the process's life (6.9 vs 3.7 GB for SAM ViT-B). */
  enableCpuMemArena?: boolean;
}

export type Session = ort.InferenceSession;
export { ort };

const PREFERENCE: readonly ExecutionProvider[] = EXECUTION_PROVIDERS;

function ortBinDir(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const pkg = dirname(req.resolve('onnxruntime-node/package.json'));
    const dir = join(pkg, 'bin');
    if (!existsSync(dir)) return undefined;
    for (const napi of readdirSync(dir)) {
      const d = join(dir, napi, process.platform, process.arch);
      if (existsSync(d)) return d;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Providers this build can actually run, best first. onnxruntime-node lists CUDA on Linux even when
 * its libraries were not installed (the CUDA download is the install step), so CUDA counts only when
 * libonnxruntime_providers_cuda is present beside the binding.
 */
export function availableExecutionProviders(): ExecutionProvider[] {
  const listed = new Set(ort.listSupportedBackends().map((b) => b.name));
  const bin = ortBinDir();
  const files = bin ? readdirSync(bin) : [];
  const out: ExecutionProvider[] = [];
  if (listed.has('cuda') && files.some((f) => f.startsWith('libonnxruntime_providers_cuda'))) out.push('cuda');
  if (listed.has('dml')) out.push('dml');
  if (listed.has('coreml')) out.push('coreml');
  out.push('cpu');
  return out;
}

/**
 * The provider list handed to ONNX Runtime: the first available one of `preference` (a models
 * folder's manifest `executionProviders`, else CUDA, DirectML, CoreML, CPU), then CPU as fallback.
 */
export function chooseExecutionProviders(env: NodeJS.ProcessEnv = process.env, preference: readonly ExecutionProvider[] = PREFERENCE): ExecutionProvider[] {
  const available = availableExecutionProviders();
  const forced = env.DELINEATE_EP?.trim().toLowerCase();
  if (forced) {
    if (!PREFERENCE.includes(forced as ExecutionProvider)) {
      throw new ModelError(`DELINEATE_EP=${forced} is not one of ${PREFERENCE.join(', ')}`);
    }
    if (!available.includes(forced as ExecutionProvider)) {
      throw new ModelError(`DELINEATE_EP=${forced} is not available in this ONNX Runtime build (available: ${available.join(', ')})`);
    }
    return forced === 'cpu' ? ['cpu'] : [forced as ExecutionProvider, 'cpu'];
  }
  const best = preference.find((p) => available.includes(p)) ?? 'cpu';
  return best === 'cpu' ? ['cpu'] : [best, 'cpu'];
}

const sessions = new Map<string, Promise<Session>>();

function key(file: string, o: SessionOptions): string {
  return JSON.stringify([file, o.executionProviders ?? null, o.intraOpNumThreads ?? null, o.enableCpuMemArena ?? null]);
}

/** Opens (once) and returns the session for a model file; later calls with the same options reuse it. */
export function openSession(file: string, opts: SessionOptions = {}): Promise<Session> {
  const k = key(file, opts);
  let s = sessions.get(k);
  if (!s) {
    const providers = opts.executionProviders ?? chooseExecutionProviders();
    s = ort.InferenceSession.create(file, {
      executionProviders: providers,
      graphOptimizationLevel: 'all',
      enableCpuMemArena: opts.enableCpuMemArena ?? false,
      ...(opts.intraOpNumThreads !== undefined ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
    }).catch((cause: unknown) => {
      sessions.delete(k);
      throw new ModelError(`cannot open ONNX model ${file}: ${(cause as Error).message}`, { file }, { cause });
    });
    sessions.set(k, s);
  }
  return s;
}

/** Runs a session, turning ONNX Runtime failures into ModelError naming the model file. */
export async function runSession(
  session: Session,
  file: string,
  feeds: Record<string, ort.Tensor>,
  outputs?: string[],
): Promise<Record<string, ort.Tensor>> {
  try {
    return outputs ? await session.run(feeds, outputs) : await session.run(feeds);
  } catch (cause) {
    throw new ModelError(`ONNX Runtime failed on ${file}: ${(cause as Error).message}`, { file }, { cause });
  }
}

/** Releases every cached session (tests, model folder change). */
export async function closeSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const p of all) {
    try {
      await (await p).release();
    } catch {
      // A session that failed to open has nothing to release.
      continue;
    }
  }
}
