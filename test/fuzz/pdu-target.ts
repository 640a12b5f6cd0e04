/**
 * The DICOM node's SCP as a fuzz target: raw bytes over TCP to a StoreReceiver running in the fuzz
 * worker on a loopback port. Seeds are what a real SCU (dcmjs-dimse, engine/dimse/client.ts) sends
 * for a C-ECHO and for a C-STORE of a phantom CT slice, recorded through a proxy; cases mutate them
 * PDU by PDU (PS3.8 9.3: type, length, A-ASSOCIATE-RQ items and AE titles, P-DATA-TF PDV lengths
 * and message control headers, PDUs dropped, duplicated, cut, a 4 GB length) and byte by byte.
 *
 * After each case the node must still serve a good association (a C-ECHO from the real SCU), and
 * every instance it acknowledged must be a readable DICOM file whose SOP Instance UID is its name:
 * a node that stops answering or stores garbage is a crash of this target. The node's answer
 * classifies the case: A-RELEASE-RP seen, accepted; anything else (A-ASSOCIATE-RJ, A-ABORT, the
 * connection closed), refused.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { readHeader } from '../../electron/engine/dicom/header.js';
import { echo, storeFiles } from '../../electron/engine/dimse/client.js';
import { parseDestination } from '../../electron/engine/dimse/destination.js';
import { StoreReceiver, type ReceiverHooks } from '../../electron/engine/node/scp.js';
import { writePhantomSeries } from '../fixtures/phantom/phantom.js';
import { byteMutate, int, pick, type Rng } from './mutate.js';
import { RefusedError, type Target } from './targets.js';

const AE = 'NODE';

interface Running {
  scp: StoreReceiver;
  stored: string[];
}

function start(incomingDir: string, stored: string[]): Promise<StoreReceiver> {
  const hooks: ReceiverHooks = { opened: () => 1, rejected: () => undefined, stored: (i) => stored.push(i.path), refused: () => undefined, closed: () => undefined };
  const scp = new StoreReceiver({ aeTitle: AE, port: 0, bind: '127.0.0.1', incomingDir, hooks, timeoutMs: 2000 });
  return scp.listen().then(() => scp);
}

/** Records what an SCU sends through a loopback proxy to a receiver. */
async function record(scp: StoreReceiver, talk: (port: number) => Promise<unknown>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  const proxy = createServer((client) => {
    const upstream = connect(scp.port, '127.0.0.1');
    client.on('data', (d: Buffer) => {
      chunks.push(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((res) => proxy.listen(0, '127.0.0.1', res));
  try {
    await talk((proxy.address() as { port: number }).port);
  } finally {
    proxy.close();
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** PDUs of a byte stream: [offset, total length] each (6-byte header, 32-bit big-endian length). */
function pdus(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = 0; at + 6 <= b.length; ) {
    const len = 6 + dv.getUint32(at + 2);
    out.push([at, Math.min(len, b.length - at)]);
    at += len;
  }
  return out;
}

const LENGTHS = [0, 1, 2, 3, 4, 5, 6, 0x44, 0x7f, 0x80, 0xff, 0x100, 0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** One PDU-level mutation of a recorded stream. */
function pduMutate(r: Rng, src: Uint8Array): Uint8Array {
  const list = pdus(src);
  if (list.length === 0) return byteMutate(r, src);
  const parts: Uint8Array[] = list.map(([at, len]) => Uint8Array.from(src.subarray(at, at + len)));
  const k = int(r, parts.length);
  const p = parts[k]!;
  const dv = new DataView(p.buffer);
  switch (int(r, 9)) {
    case 0: // PDU length lies
      if (p.length >= 6) dv.setUint32(2, pick(r, LENGTHS));
      break;
    case 1: // unknown or out-of-order PDU type
      p[0] = pick(r, [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x55, 0xff]);
      break;
    case 2: // drop a PDU
      parts.splice(k, 1);
      break;
    case 3: // duplicate a PDU (a second A-ASSOCIATE-RQ, a repeated P-DATA-TF)
      parts.splice(k, 0, Uint8Array.from(p));
      break;
    case 4: // cut the stream inside a PDU
      parts.splice(k + 1);
      parts[k] = p.subarray(0, int(r, p.length));
      break;
    case 5: { // A-ASSOCIATE-RQ: AE titles, protocol version, item lengths (items from byte 74, PS3.8 9.3.2)
      const rq = parts.find((x) => x[0] === 0x01);
      if (!rq || rq.length < 74) break;
      const d = new DataView(rq.buffer);
      const what = int(r, 4);
      if (what === 0) d.setUint16(6, pick(r, [0, 2, 0xffff]));
      else if (what === 1) rq.fill(pick(r, [0, 0x5c, 0x20, 0x41, 0xff]), 10 + int(r, 16), 10 + 16 + int(r, 16));
      else {
        const items: number[] = [];
        for (let at = 74; at + 4 <= rq.length; at += 4 + d.getUint16(at + 2)) items.push(at);
        if (items.length) d.setUint16(pick(r, items) + 2, pick(r, [0, 1, 3, 4, 0xff, 0x7fff, 0xffff]));
      }
      break;
    }
    case 6: { // P-DATA-TF: PDV length, presentation context id, message control header (PS3.8 9.3.5, E.2)
      const pd = parts.filter((x) => x[0] === 0x04 && x.length >= 12);
      if (pd.length === 0) break;
      const x = pick(r, pd);
      const d = new DataView(x.buffer);
      const what = int(r, 3);
      if (what === 0) d.setUint32(6, pick(r, LENGTHS));
      else if (what === 1) x[10] = pick(r, [0, 2, 3, 0xff]);
      else x[11] = pick(r, [0, 1, 2, 3, 0x04, 0xfc, 0xff]);
      break;
    }
    case 7: // a huge length with nothing behind it
      parts.splice(k, parts.length - k, Uint8Array.of(0x04, 0, 0xff, 0xff, 0xff, 0xf0, 0, 0));
      break;
    default: // bytes damaged inside one PDU
      parts[k] = byteMutate(r, p);
  }
  return new Uint8Array(Buffer.concat(parts));
}

let running: Promise<Running> | undefined;

function startNode(): Promise<Running> {
  running ??= (async () => {
    const stored: string[] = [];
    return { scp: await start(join(process.env.DELINEATE_FUZZ_TMP ?? '/tmp', 'pdu-incoming'), stored), stored };
  })();
  return running;
}

/** Sends the bytes; collects the node's answer until it closes the connection or stays silent 60 ms. */
function exchange(port: number, bytes: Uint8Array): Promise<Buffer> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const s: Socket = connect(port, '127.0.0.1');
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(got));
    };
    const quiet = (): void => {
      clearTimeout(timer);
      timer = setTimeout(done, 60);
    };
    s.on('connect', () => {
      s.write(bytes, quiet);
    });
    s.on('data', (d: Buffer) => {
      got.push(d);
      quiet();
    });
    s.on('error', done);
    s.on('close', done);
  });
}

export const pduTarget: Target = {
  name: 'pdu',
  seeds(dir) {
    // Recorded synchronously for the harness: the recording runs in a child process of its own.
    const out = join(dir, 'pdu-seeds.json');
    const r = spawnRecorder(dir, out);
    if (r !== 0) throw new Error(`recording PDU seeds failed (exit ${r})`);
    return (JSON.parse(readFileSync(out, 'utf8')) as string[]).map((b64) => [new Uint8Array(Buffer.from(b64, 'base64'))]);
  },
  mutate(r, [seed]) {
    return { files: [['case.pdu', int(r, 4) === 0 ? byteMutate(r, seed!) : pduMutate(r, seed!)]] };
  },
  async warm() {
    await startNode();
  },
  async run([path], c) {
    const node = await startNode();
    const before = node.stored.length;
    const answer = await exchange(node.scp.port, c.files[0]![1]);
    // Still serving: a good association right after.
    await echo(parseDestination(`${AE}@127.0.0.1:${node.scp.port}`, { callingAeTitle: 'FUZZ', timeoutMs: 5000 })).catch((e: unknown) => {
      throw new Error(`the node no longer serves a good association after this case: ${(e as Error).message}`);
    });
    for (const p of node.stored.slice(before)) {
      const bytes = readFileSync(p);
      const h = readHeader(p, bytes, bytes.length, 0);
      if (h.kind === 'skip' || !p.endsWith(`${h.sopInstanceUid}.dcm`)) throw new Error(`the node acknowledged and stored garbage: ${p}`);
    }
    const types = pdus(new Uint8Array(answer)).map(([at]) => answer[at]!);
    if (!types.includes(0x06)) throw new RefusedError(`${path}: the node answered PDU types [${types.join(',')}] and closed (no release)`);
  },
};

/** Runs this file as a script to record seeds: a real SCU against a receiver, through the proxy. */
function spawnRecorder(dir: string, out: string): number | null {
  return spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--record', dir, out], { stdio: 'inherit' }).status;
}

if (process.argv[2] === '--record') {
  const [dir, out] = [process.argv[3]!, process.argv[4]!];
  const stored: string[] = [];
  const scp = await start(join(dir, 'pdu-record-incoming'), stored);
  const ph = writePhantomSeries(join(dir, 'pdu-phantom'), { seed: 'fuzz-pdu', columns: 16, rows: 16, slices: 2 });
  const dest = (port: number): ReturnType<typeof parseDestination> => parseDestination(`${AE}@127.0.0.1:${port}`, { callingAeTitle: 'SENDER', timeoutMs: 5000 });
  const seeds = [
    await record(scp, (port) => echo(dest(port))),
    await record(scp, (port) => storeFiles(dest(port), [ph.files[0]!.path])),
    await record(scp, (port) => storeFiles(dest(port), ph.files.map((f) => f.path))),
  ];
  await scp.close();
  writeFileSync(out, JSON.stringify(seeds.map((b) => Buffer.from(b).toString('base64'))));
  process.exit(0);
}
