/**
 * `delineate models check [--dir DIR]`: verifies every file of the models folder's manifest (present,
 * sha256 as listed) and reports the execution providers this ONNX Runtime build offers, best first.
 * JSON: {models:[{name, file, sha256, ok, problem?}], executionProviders:[...]}. Exit status 1 when a
 * file is missing or altered, so scripts can gate on it.
 */
import type { Command } from '../command.js';
import { str } from '../args.js';
import { ModelError } from '../../engine/errors.js';
import { checkModels, readManifest, type ModelCheck } from '../../engine/models/manifest.js';
import { chooseExecutionProviders } from '../../engine/models/session.js';
import { defaultModelsDir } from '../../engine/paths.js';

export interface ModelsCheckOutput {
  dir: string;
  models: ModelCheck[];
  executionProviders: string[];
}

export const modelsCheckCommand: Command = {
  path: ['models', 'check'],
  summary: 'verify the models folder (sha256 of every file) and list the execution providers',
  usage: 'delineate models check [--dir DIR] [--json]',
  flags: { dir: { type: 'string', description: 'models folder (default: DELINEATE_MODELS or the per-user folder)' } },
  async run(args): Promise<ModelsCheckOutput> {
    const dir = str(args, 'dir') ?? defaultModelsDir();
    const manifest = readManifest(dir);
    const models = checkModels(manifest);
    const out = { dir: manifest.dir, models, executionProviders: chooseExecutionProviders() };
    const bad = models.filter((m) => !m.ok);
    if (bad.length > 0) {
      throw new ModelError(`models folder ${manifest.dir}: ${bad.map((b) => `${b.name}: ${b.problem ?? 'failed'}`).join('; ')}`);
    }
    return out;
  },
  human(result) {
    const r = result as ModelsCheckOutput;
    return [...r.models.map((m) => `${m.ok ? 'ok ' : 'BAD'} ${m.name} ${m.file}${m.problem ? `: ${m.problem}` : ''}`), `execution providers: ${r.executionProviders.join(', ')}`].join('\n');
  },
};
