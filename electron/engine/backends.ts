/**
 * The one place that picks the localizer and the segmenter (DESIGN.md "Models"): MedLAM and
 * MedSAM when the models folder holds their files and every sha256 matches the manifest; otherwise
 * the weight-free atlas backend, so a fresh install without weights still produces contours. Each is
 * chosen on its own (a folder with only SAM weights gives atlas localization + MedSAM), and
 * `backend` forces a choice: 'medlam' refuses to fall back and names the file at fault.
 * Runs record what was chosen, with the model hashes (jobs/runs.ts recordBackends).
 */
import { DelineateError, InputError } from './errors.js';
import type { Localizer } from './localize/localizer.js';
import type { Segmenter } from './segment/segmenter.js';
import { checkModels, readManifest, selectModel, type ModelEntry, type ModelManifest } from './models/manifest.js';
import { chooseExecutionProviders } from './models/session.js';
import { medsamFromModelsDir } from './segment/factory.js';
import { medlamFromModelsDir } from './localize/medlam.js';
import { createAtlasBackend, type AtlasBackend } from './localize/atlas/index.js';

export type BackendName = 'medlam' | 'atlas';

export interface BackendRequest {
  /** Models folder; absent, missing or unverified means the weight-free backend. */
  modelsDir?: string;
  /** Force a backend for both steps. */
  backend?: string;
}

export interface SelectedBackends {
  localizer: Localizer;
  segmenter: Segmenter;
  /** Why each was chosen, for the log and the run's record ("MedLAM models verified", ...). */
  reasons: string[];
}

export interface ModelsStatus {
  medlam: { ok: boolean; problem?: string };
  sam: { ok: boolean; problem?: string };
}

/** Which model families are present and verified in a folder (hashes checked). */
export function modelsStatus(dir: string | undefined): ModelsStatus {
  const none = (problem: string): ModelsStatus => ({ medlam: { ok: false, problem }, sam: { ok: false, problem } });
  if (!dir) return none('no models folder configured');
  let manifest: ModelManifest;
  try {
    manifest = readManifest(dir);
  } catch (e) {
    return none((e as Error).message);
  }
  const checks = new Map(checkModels(manifest).map((c) => [c.name, c]));
  // The factories verify the whole manifest (models/manifest.ts loadManifest), so one altered file
  // makes the folder unusable for both families: say which file.
  const bad = [...checks.values()].find((c) => !c.ok);
  if (bad) return none(`model ${bad.name}: ${bad.problem ?? 'failed verification'}`);
  // The entries the factories would open: per role, the one meant for the provider in use.
  let provider: ReturnType<typeof chooseExecutionProviders>[number] = 'cpu';
  try {
    provider = chooseExecutionProviders(process.env, manifest.executionProviders)[0] ?? 'cpu';
  } catch {
    // DELINEATE_EP names a provider this build lacks: models status reports that separately.
    provider = 'cpu';
  }
  const family = (roles: string[]): { ok: boolean; problem?: string } => {
    for (const role of roles) {
      let m: ModelEntry | undefined;
      try {
        m = selectModel(manifest, role, provider);
      } catch (e) {
        return { ok: false, problem: (e as Error).message };
      }
      if (!m) return { ok: false, problem: `models folder ${manifest.dir} has no model with role ${role}` };
      const c = checks.get(m.name);
      if (!c?.ok) return { ok: false, problem: `model ${m.name}: ${c?.problem ?? 'failed verification'}` };
    }
    return { ok: true };
  };
  return { medlam: family(['medlam-full']), sam: family(['sam-encoder', 'sam-decoder']) };
}

function parseBackend(name: string | undefined): BackendName | undefined {
  if (name === undefined) return undefined;
  if (name === 'medlam' || name === 'medsam') return 'medlam';
  if (name === 'atlas') return 'atlas';
  throw new InputError(`unknown backend '${name}' (known: medlam, atlas)`);
}

/** One atlas backend per selection: its localizer and segmenter share the registrations. */
function atlasPair(): () => AtlasBackend {
  let b: AtlasBackend | undefined;
  return () => (b ??= createAtlasBackend());
}

export async function selectBackends(req: BackendRequest = {}): Promise<SelectedBackends> {
  const forced = parseBackend(req.backend);
  const status = modelsStatus(req.modelsDir);
  const reasons: string[] = [];
  if (forced === 'medlam') {
    for (const [what, s] of [['MedLAM', status.medlam], ['MedSAM', status.sam]] as const) {
      if (!s.ok) throw new DelineateError('model', `backend medlam was asked for but the ${what} models are not usable: ${s.problem ?? 'unknown problem'}`, { file: req.modelsDir });
    }
  }
  const useMedlam = forced !== 'atlas' && status.medlam.ok;
  const useMedsam = forced !== 'atlas' && status.sam.ok;
  const atlas = atlasPair();
  let localizer: Localizer;
  if (useMedlam) {
    localizer = await medlamFromModelsDir(req.modelsDir!);
    reasons.push('localizer MedLAM: models verified');
  } else {
    localizer = atlas().localizer;
    reasons.push(`localizer atlas: ${forced === 'atlas' ? 'asked for' : status.medlam.problem ?? 'no MedLAM models'}`);
  }
  let segmenter: Segmenter;
  if (useMedsam) {
    segmenter = medsamFromModelsDir(req.modelsDir!);
    reasons.push('segmenter MedSAM: models verified');
  } else {
    segmenter = atlas().segmenter;
    reasons.push(`segmenter atlas: ${forced === 'atlas' ? 'asked for' : status.sam.problem ?? 'no SAM models'}`);
  }
  return { localizer, segmenter, reasons };
}
