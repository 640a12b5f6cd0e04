/**
 * The compressed-pixel codecs: @cornerstonejs/codec-openjpeg (JPEG 2000), codec-charls (JPEG-LS),
 * codec-libjpeg-turbo-8bit (JPEG baseline), each an Emscripten module whose Node entry point is the
 * package's `decodewasmjs` export (it finds its .wasm beside itself), and jpeg-lossless-decoder-js
 * (JPEG lossless, process 14). The modules are instantiated once, on first use.
 */
import { createRequire } from 'node:module';
import { InputError } from '../../errors.js';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  delete(): void;
}

type Ctor = new () => WasmDecoder;
type Factory = (opts?: object) => Promise<Record<string, unknown>>;

const require = createRequire(import.meta.url);

const modules = new Map<string, Promise<Ctor>>();

function load(pkg: string, className: string): Promise<Ctor> {
  let p = modules.get(pkg);
  if (!p) {
    const factory = require(`${pkg}/decodewasmjs`) as Factory;
    // The modules print progress ("[INFO] Start to read j2k main header") through print/printErr,
    // which default to stdout: silence them, or `--json` output is no longer one document.
    const quiet = (): void => undefined;
    p = factory({ print: quiet, printErr: quiet }).then((m) => m[className] as Ctor);
    modules.set(pkg, p);
  }
  return p;
}

export interface DecodedFrame {
  /** Little-endian sample bytes, one component. */
  bytes: Uint8Array;
  width: number;
  height: number;
  bitsPerSample: number;
}

async function runWasm(pkg: string, className: string, data: Uint8Array, file: string): Promise<DecodedFrame> {
  const Decoder = await load(pkg, className);
  const dec = new Decoder();
  try {
    dec.getEncodedBuffer(data.length).set(data);
    dec.decode();
    const info = dec.getFrameInfo();
    // Copy out: the decoded buffer is a view of the module's heap, reused by the next decode.
    const bytes = new Uint8Array(dec.getDecodedBuffer());
    if (info.componentCount !== 1) {
      throw new InputError(`compressed frame has ${info.componentCount} components, expected 1 in ${file}`, { file });
    }
    return { bytes, width: info.width, height: info.height, bitsPerSample: info.bitsPerSample };
  } catch (e) {
    if (e instanceof InputError) throw e;
    const msg = e instanceof Error ? e.message : typeof e === 'number' ? `codec error ${e}` : String(e);
    throw new InputError(`cannot decode ${className.replace('Decoder', '')} pixel data in ${file}: ${msg}`, { file });
  } finally {
    dec.delete();
  }
}

export function decodeJpeg2000(data: Uint8Array, file: string): Promise<DecodedFrame> {
  return runWasm('@cornerstonejs/codec-openjpeg', 'J2KDecoder', data, file);
}

export function decodeJpegLs(data: Uint8Array, file: string): Promise<DecodedFrame> {
  return runWasm('@cornerstonejs/codec-charls', 'JpegLSDecoder', data, file);
}

export function decodeJpegBaseline(data: Uint8Array, file: string): Promise<DecodedFrame> {
  return runWasm('@cornerstonejs/codec-libjpeg-turbo-8bit', 'JPEGDecoder', data, file);
}

interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number, numBytes: number): Uint8Array | Uint16Array;
}

const lossless = require('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder };

export function decodeJpegLossless(data: Uint8Array, bytesPerSample: number, width: number, height: number, file: string): DecodedFrame {
  try {
    const out = new lossless.Decoder().decode(data.buffer as ArrayBuffer, data.byteOffset, data.length, bytesPerSample);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    if (bytes.length < width * height * bytesPerSample) {
      throw new Error(`decoded ${bytes.length} bytes, expected ${width * height * bytesPerSample}`);
    }
    return { bytes, width, height, bitsPerSample: bytesPerSample * 8 };
  } catch (e) {
    throw new InputError(`cannot decode JPEG lossless pixel data in ${file}: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
}
