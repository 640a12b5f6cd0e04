/**
 * Where the real-data tests find their inputs: DELINEATE_TEST_DATA, else ../shared/data beside the
 * repository. Tests that need it call `requireData(t, 'sub/path')`, which skips with a clear message
 * when it is absent so a fresh clone still passes.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';

export const REPO_ROOT = resolve(new URL('../..', import.meta.url).pathname);

export function dataDir(): string {
  return process.env.DELINEATE_TEST_DATA ?? resolve(REPO_ROOT, '..', 'shared', 'data');
}

export function parityDir(): string {
  return process.env.DELINEATE_PARITY ?? resolve(REPO_ROOT, '..', 'shared', 'parity');
}

/** Absolute path of a file under the data folder, or undefined (and the test skipped) if absent. */
export function requireData(t: TestContext, sub: string): string | undefined {
  const p = join(dataDir(), sub);
  if (!existsSync(p)) {
    t.skip(`real-data test skipped: ${p} is absent (set DELINEATE_TEST_DATA or place ../shared/data beside the repository)`);
    return undefined;
  }
  return p;
}

/** A fresh temporary folder removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'delineate-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
