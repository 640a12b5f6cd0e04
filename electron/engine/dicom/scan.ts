/**
 * Recursive file listing for import: follows directories (each real directory once, so symlink
 * loops end), returns regular files in a stable, sorted order, and reports paths that cannot be read.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface ScanResult {
  files: string[];
  unreadable: { path: string; reason: string }[];
}

export async function scanPaths(paths: string[], signal?: AbortSignal): Promise<ScanResult> {
  const files = new Set<string>();
  const unreadable: { path: string; reason: string }[] = [];
  const seenDirs = new Set<string>();
  async function visit(p: string): Promise<void> {
    if (signal?.aborted) return;
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      unreadable.push({ path: p, reason: `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    if (st.isDirectory()) {
      const real = await realpath(p).catch(() => p);
      if (seenDirs.has(real)) return;
      seenDirs.add(real);
      let names: string[];
      try {
        names = await readdir(p);
      } catch (e) {
        unreadable.push({ path: p, reason: `cannot list folder ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
        return;
      }
      for (const n of names.sort()) await visit(join(p, n));
    } else if (st.isFile()) {
      files.add(p);
    }
  }
  for (const p of paths) await visit(resolve(p));
  return { files: [...files].sort(), unreadable };
}

export function isNiftiPath(p: string): boolean {
  return /\.nii(\.gz)?$/i.test(p);
}
