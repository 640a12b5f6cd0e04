/**
 * Recursive file listing for import: follows directories (each real directory once, so symlink
 * loops end), returns regular files in a stable, sorted order, and reports paths that cannot be read.
 * Synchronous: directory entries carry their type, so a local folder lists without a stat per file.
 */
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join, resolve } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

export interface ScanResult {
  files: string[];
  unreadable: { path: string; reason: string }[];
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

export async function scanPaths(paths: string[], signal?: AbortSignal): Promise<ScanResult> {
  const files = new Set<string>();
  const unreadable: { path: string; reason: string }[] = [];
  const seenDirs = new Set<string>();
  let visited = 0;
  async function visitDir(p: string): Promise<void> {
    if (signal?.aborted) return;
    if (++visited % 64 === 0) await yieldToLoop();
    let real = p;
    try {
      real = realpathSync(p);
    } catch {
      // keep p
    }
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    let entries: Dirent[];
    try {
      entries = readdirSync(p, { withFileTypes: true });
    } catch (e) {
      unreadable.push({ path: p, reason: `cannot list folder ${p}: ${errCode(e)}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of entries) {
      const child = join(p, d.name);
      if (d.isFile()) files.add(child);
      else if (d.isDirectory()) await visitDir(child);
      else if (d.isSymbolicLink()) await visitPath(child);
    }
  }
  async function visitPath(p: string): Promise<void> {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      unreadable.push({ path: p, reason: `cannot read ${p}: ${errCode(e)}` });
      return;
    }
    if (st.isDirectory()) await visitDir(p);
    else if (st.isFile()) files.add(p);
  }
  for (const p of paths) await visitPath(resolve(p));
  return { files: [...files].sort(), unreadable };
}

export function isNiftiPath(p: string): boolean {
  return /\.nii(\.gz)?$/i.test(p);
}
