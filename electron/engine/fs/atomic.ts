/**
 * Every file Delineate writes goes through here: exports, derived files, caches, backups. A write
 * either leaves the complete new file under its name or nothing new at all (a temporary name in the
 * same folder, fsync of the file, rename over the target, fsync of the folder so the rename itself
 * survives a power cut; the recipe of SQLite's own journal and of write-file-atomic). Files are
 * created private to the user (0600, folders 0700; "files private to the user" in the trust issue).
 *
 * Failures become a StorageError that names the operation and the path, and says what the system
 * reported in words a planner can act on (disk full, read-only, permission denied).
 */
import { accessSync, chmodSync, closeSync, constants, copyFileSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { DelineateError, type ErrorContext } from '../errors.js';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

export class StorageError extends DelineateError {
  override readonly name: string = 'StorageError';
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('storage', message, context, options);
  }
}

/** What the operating system (or SQLite) reported, in words; undefined when it is not a storage fault. */
export function storageReason(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOSPC':
    case 'SQLITE_FULL':
      return 'no space left on the disk';
    case 'EDQUOT':
      return 'the disk quota is exhausted';
    case 'EROFS':
    case 'SQLITE_READONLY':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_READONLY_DIRECTORY':
      return 'permission denied';
    case 'EIO':
      return 'input/output error from the disk';
    default:
      return typeof code === 'string' && code.startsWith('SQLITE_IOERR') ? `input/output error (${code})` : undefined;
  }
}

/**
 * `operation` says what was being done ("export rtstruct", "import"), `path` the file or folder
 * written. Nothing already stored is touched by a failed write; the message says so.
 */
export function storageError(operation: string, path: string, cause: unknown): StorageError {
  let reason = storageReason(cause) ?? (cause instanceof Error ? cause.message : String(cause));
  // SQLite reports a full disk under several I/O codes (SQLITE_IOERR_SHMSIZE when the -shm cannot
  // grow on tmpfs, SQLITE_IOERR_WRITE, ...): say so when the disk is indeed (nearly) full.
  if (!/space|quota|read-only|permission/.test(reason) && freeBytes(path) < 1 << 20) reason = `no space left on the disk (${reason})`;
  // SQLite says SQLITE_CANTOPEN or SQLITE_READONLY for a read-only mount; access(2) tells which.
  if (/permission|input\/output/.test(reason) && readOnlyFs(path)) reason = 'the file system is read-only';
  const hint = /space|quota/.test(reason) ? '; free some space and run it again' : /read-only|permission/.test(reason) ? '; choose a writable folder or fix its permissions' : '';
  return new StorageError(`${operation}: cannot write ${path}: ${reason}${hint}`, { file: path, operation }, { cause });
}

/** Free bytes for this user on the disk holding `path` (or its nearest existing parent); Infinity if unknown. */
export function freeBytes(path: string): number {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = statfsSync(p);
      return s.bavail * s.bsize;
    } catch {
      if (dirname(p) === p) return Number.POSITIVE_INFINITY;
    }
  }
}

function readOnlyFs(path: string): boolean {
  for (let p = path; ; p = dirname(p)) {
    try {
      accessSync(p, constants.W_OK);
      return false;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EROFS') return true;
      if (code !== 'ENOENT' || dirname(p) === p) return false;
    }
  }
}

/**
 * Files any code in this process creates (SQLite's -wal and -shm, received DICOM, ONNX Runtime's
 * files) are private to the user: group and others get nothing. Called by every entry point (CLI,
 * the app's engine host) before the first file is written. No effect on Windows.
 */
export function restrictUmask(): void {
  if (process.platform !== 'win32') process.umask(0o077);
}

/** Creates a folder (and its parents) private to the user. */
export function ensurePrivateDir(dir: string, operation: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (cause) {
    throw storageError(operation, dir, cause);
  }
}

/** fsync of a folder makes a rename in it durable; Windows cannot open folders, and needs none. */
export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  /** What the write is for, named in errors: "export rtstruct", "audit export". */
  operation: string;
  mode?: number;
}

/** Writes `data` (one buffer, a string, or chunks written in order) to `path` atomically. */
export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[], opts: AtomicWriteOptions): void {
  const dir = dirname(path);
  ensurePrivateDir(dir, opts.operation);
  const tmp = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', opts.mode ?? PRIVATE_FILE_MODE);
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    fsyncDir(dir);
  } catch (cause) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw storageError(opts.operation, path, cause);
  }
}

/**
 * Copies `src` to `dst` with the guarantees of writeFileAtomic (a reflink where the file system
 * offers one, else a plain copy, to a temporary name; fsync; rename; fsync of the folder).
 */
export function copyFileAtomic(src: string, dst: string, opts: AtomicWriteOptions): void {
  const dir = dirname(dst);
  ensurePrivateDir(dir, opts.operation);
  const tmp = join(dir, `.${basename(dst)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  try {
    copyFileSync(src, tmp, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
    chmodSync(tmp, opts.mode ?? PRIVATE_FILE_MODE);
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, dst);
    fsyncDir(dir);
  } catch (cause) {
    rmSync(tmp, { force: true });
    throw storageError(opts.operation, dst, cause);
  }
}
