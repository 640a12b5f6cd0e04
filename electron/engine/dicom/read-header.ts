/**
 * Reading one file's header for import: synchronous I/O, each byte read once, and whatever goes
 * wrong becomes `{kind: 'skip', reason}` naming the file. Runs on the importing thread or on a
 * decode-pool worker (decode-pool.ts, readHeaders).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readHeader, type FileHeader } from './header.js';
import { pixelEncoding } from './transfer-syntax.js';

/** Enough bytes for any header we have met; files that need more are read whole. */
const HEADER_BYTES = 64 * 1024;
/** Larger files are judged by their start only. */
const MAX_WHOLE_READ = 1 << 30;
/** Read buffers up to this size are kept for the next file. */
const ONE_BUFFER_MAX = 16 << 20;

/*
 * Header reads use synchronous I/O: four thread-pool round trips per file (stat, open, read, close)
 * cost more than the reads themselves on a local disk. The loop yields to the event loop every few
 * files so that cancellation and progress still get through; the engine runs imports off the UI thread.
 *
 * One pass over each file's bytes: the start is read first, and only when it is not enough is
 * the rest read after it (never the start again).
 */
function readFrom(fd: number, buf: Buffer, from: number, to: number): number {
  let got = from;
  while (got < to) {
    const n = readSync(fd, buf, got, to - got, got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/*
 * One read buffer for all files (a fresh one per file cost more in garbage collection than the
 * reads), grown to the largest file read whole and kept up to ONE_BUFFER_MAX. Safe because
 * readHeader copies out everything it keeps (strings and numbers) before the next file.
 */
let shared = Buffer.allocUnsafe(0);

function readBuffer(size: number): Buffer {
  if (size <= shared.length) return shared;
  const b = Buffer.allocUnsafe(Math.max(size, HEADER_BYTES));
  if (size <= ONE_BUFFER_MAX) shared = b;
  return b;
}

/** Header of one file: first from its start, then from the whole file when the start is not enough. */
export function headerOf(path: string, size: number, mtimeMs: number): ReturnType<typeof readHeader> {
  if (size === 0) return { kind: 'skip', path, reason: `empty file: ${path}` };
  const fd = openSync(path, 'r');
  try {
    let buf = readBuffer(Math.min(size, HEADER_BYTES));
    const startLen = readFrom(fd, buf, 0, Math.min(size, HEADER_BYTES));
    const start = buf.subarray(0, startLen);
    let h = readHeader(path, start, size, mtimeMs);
    // The rest of the file: when the start was not enough (a long header, a truncated-looking parse),
    // for objects (their references may lie beyond the start), and for encapsulated pixel data. Never
    // for something that is not DICOM at all (a video in the folder must not be read whole).
    const needWhole =
      startLen < size &&
      size <= MAX_WHOLE_READ &&
      ((h.kind === 'skip' && !h.reason.startsWith('not a DICOM file')) ||
        h.kind === 'object' ||
        // Encapsulated pixel data: parse the whole file so broken fragment structure is caught now.
        (h.kind === 'image' && !['native', 'native-be'].includes(pixelEncoding(h.transferSyntax) ?? '')));
    if (needWhole) {
      if (buf.length < size) {
        const all = readBuffer(size);
        all.set(start);
        buf = all;
      }
      h = readHeader(path, buf.subarray(0, readFrom(fd, buf, startLen, size)), size, mtimeMs);
    }
    return h;
  } finally {
    closeSync(fd);
  }
}

/** headerOf, with a failure to read (permissions, a file gone since the scan) as a skip naming the file. */
export function headerOrSkip(path: string, size: number, mtimeMs: number): FileHeader {
  try {
    return headerOf(path, size, mtimeMs);
  } catch (e) {
    return { kind: 'skip', path, reason: `cannot read ${path}: ${(e as Error).message}` };
  }
}
