/**
 * Worker thread of the slice decode pool (decode-pool.ts): reads one file, decodes its pixels to HU
 * with the same functions as the calling thread (pixels.ts), and hands the samples back by
 * transferring their buffer, so they are never copied on the way.
 */
import { parentPort } from 'node:worker_threads';
import { toErrorPayload } from '../errors.js';
import { decodeSliceFile, newScratch, type PixelLayout } from './pixels.js';
import type { DecodeReply, DecodeRequest, HeaderRequest } from './decode-pool.js';
import { headerOrSkip } from './read-header.js';

// One read buffer for every file this worker decodes (pixels.ts, Scratch). The pool keeps two
// requests in flight per worker, and a decode can wait (a codec's first instantiation): requests are
// handled strictly one after another, or the second read would overwrite the first one's bytes.
const scratch = { ...newScratch(), spare: [] as ArrayBuffer[] };
/** Spare buffers kept at most: two in flight and one being filled. */
const MAX_SPARE = 4;
let queue: Promise<void> = Promise.resolve();

async function handle(m: DecodeRequest): Promise<void> {
  const layout: PixelLayout = { rows: m.rows, columns: m.columns };
  try {
    const s = await decodeSliceFile(m.path, layout, scratch);
    const reply: DecodeReply = { batch: m.batch, index: m.index, kind: s.kind, buffer: s.data.buffer as ArrayBuffer };
    parentPort!.postMessage(reply, [reply.buffer]);
  } catch (e) {
    parentPort!.postMessage({ batch: m.batch, index: m.index, error: toErrorPayload(e) } satisfies DecodeReply);
  }
}

parentPort?.on('message', (m: DecodeRequest | HeaderRequest | { recycle: ArrayBuffer }) => {
  // The pool hands each int16 buffer back once it has copied the slice into the volume: reusing it
  // spares an allocation per slice and the garbage collection of it on both threads.
  if ('recycle' in m) {
    if (scratch.spare.length < MAX_SPARE) scratch.spare.push(m.recycle);
    return;
  }
  if ('header' in m) {
    const header = headerOrSkip(m.header.path, m.header.size, m.header.mtimeMs);
    queue = queue.then(() => parentPort!.postMessage({ batch: m.batch, index: m.index, header } satisfies DecodeReply));
    return;
  }
  queue = queue.then(() => handle(m));
});
