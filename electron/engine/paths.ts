/**
 * Where Delineate keeps per-user data: the database and the models folder live outside the install
 * folder (an installer update must never touch them). Follows each platform's convention, the same
 * folder Electron's app.getPath('userData') gives for the product name "Delineate".
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.DELINEATE_HOME) return env.DELINEATE_HOME;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Delineate');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Delineate');
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Delineate');
}

export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(userDataDir(env), 'delineate.sqlite');
}

export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DELINEATE_MODELS ?? join(userDataDir(env), 'models');
}

/** Where embeddings and other re-computable caches live (safe to delete). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(userDataDir(env), 'cache');
}
