/**
 * What the first-run model setup screen shows (api `modelsStatus`): the models folder, every file's
 * verification against the manifest's sha256, which backend each step will use (backends.ts decides,
 * this only reports its verdict), and the ONNX Runtime execution providers available here and the one
 * that will be used. The same checks as `delineate models check`, but it never throws for a missing
 * or bad folder: "no models" is a normal state (the weight-free atlas backend runs).
 */
import { resolve } from 'node:path';
import type { ModelsStatusInfo } from '../../api.js';
import { defaultModelsDir } from '../paths.js';
import { checkModels, readManifest, type ModelManifest } from './manifest.js';

export async function modelsSetupStatus(requestedDir?: string, env: NodeJS.ProcessEnv = process.env): Promise<ModelsStatusInfo> {
  const dir = resolve(requestedDir ?? defaultModelsDir(env));
  const dirSource: ModelsStatusInfo['dirSource'] = requestedDir ? 'request' : env.DELINEATE_MODELS ? 'env' : 'default';

  let manifest: ModelManifest | undefined;
  let problem: string | undefined;
  try {
    manifest = readManifest(dir);
  } catch (e) {
    problem = (e as Error).message;
  }
  const models: ModelsStatusInfo['models'] = [];
  if (manifest) {
    const byName = new Map(manifest.models.map((m) => [m.name, m]));
    for (const c of checkModels(manifest)) {
      const m = byName.get(c.name);
      models.push({
        name: c.name,
        role: m?.role ?? '',
        file: c.file,
        ...(m?.precision ? { precision: m.precision } : {}),
        ok: c.ok,
        ...(c.problem ? { problem: c.problem } : {}),
      });
    }
  }

  // backends.ts is the one place that picks a backend; loaded lazily (it pulls in ONNX Runtime).
  const { modelsStatus } = await import('../backends.js');
  const families = modelsStatus(dir);
  const localizer: ModelsStatusInfo['localizer'] = families.medlam.ok ? { backend: 'medlam' } : { backend: 'atlas', problem: families.medlam.problem ?? 'MedLAM models not verified' };
  const segmenter: ModelsStatusInfo['segmenter'] = families.sam.ok ? { backend: 'medsam' } : { backend: 'atlas', problem: families.sam.problem ?? 'MedSAM/SAM models not verified' };

  const { availableExecutionProviders, chooseExecutionProviders } = await import('./session.js');
  let executionProviders: ModelsStatusInfo['executionProviders'];
  const available = availableExecutionProviders();
  try {
    executionProviders = { available, inUse: chooseExecutionProviders(env, manifest?.executionProviders)[0] ?? 'cpu' };
  } catch (e) {
    // DELINEATE_EP names a provider this build lacks: sessions would fail to open; say why.
    executionProviders = { available, inUse: 'none', problem: (e as Error).message };
  }

  return { dir, dirSource, manifestOk: manifest !== undefined, ...(problem ? { problem } : {}), models, localizer, segmenter, executionProviders };
}
