/**
 * Worker thread of the slice decode pool (decode-pool.ts): reads one file, decodes its pixels to HU
 * with the same functions as the calling thread (pixels.ts), and hands the samples back by
 * transferring their buffer, so they are never copied on the way.
 */
import { parentPort } from 'node:worker_threads';
import { toErrorPayload } from '../errors.js';
import { decodeSliceFile, newScratch, type PixelLayout } from './pixels.js';
import type { DecodeReply, DecodeRequest } from './decode-pool.js';

// One read buffer for every file this worker decodes (pixels.ts, Scratch).
const scratch = newScratch();

parentPort?.on('message', (m: DecodeRequest) => {
  const layout: PixelLayout = { rows: m.rows, columns: m.columns };
  decodeSliceFile(m.path, layout, scratch).then(
    (s) => {
      const reply: DecodeReply = { batch: m.batch, index: m.index, kind: s.kind, buffer: s.data.buffer as ArrayBuffer };
      parentPort!.postMessage(reply, [reply.buffer]);
    },
    (e: unknown) => parentPort!.postMessage({ batch: m.batch, index: m.index, error: toErrorPayload(e) } satisfies DecodeReply),
  );
});
