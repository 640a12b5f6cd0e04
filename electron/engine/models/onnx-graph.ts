/**
 * A minimal ONNX ModelProto reader (onnx/onnx.proto, protobuf wire format): nodes, initializers
 * (shape, type, and the values of small integer or scalar tensors, which shape computations need),
 * graph inputs/outputs and value_info. Weights are never copied: large tensors keep only their shape.
 * The counterpart of onnx-builder.ts, used to count a model's arithmetic (flops.ts).
 */
import { readFileSync } from 'node:fs';

/** TensorProto.DataType values this reader decodes. */
export const ONNX_FLOAT = 1;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;
export const ONNX_BOOL = 9;
export const ONNX_FLOAT16 = 10;
export const ONNX_DOUBLE = 11;

export type ShapeDim = number | string;

export interface OnnxTensorInfo {
  name: string;
  dims: number[];
  dataType: number;
  /** Element values, only for tensors of at most VALUE_LIMIT elements (shapes, axes, index tables). */
  values?: number[];
}

export type OnnxAttrValue = number | number[] | string | OnnxTensorInfo | OnnxGraphInfo;

export interface OnnxNodeInfo {
  op: string;
  name: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, OnnxAttrValue>;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  shape?: ShapeDim[];
}

export interface OnnxGraphInfo {
  name: string;
  nodes: OnnxNodeInfo[];
  initializers: Map<string, OnnxTensorInfo>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: Map<string, OnnxValueInfo>;
}

export interface OnnxModelInfo {
  irVersion: number;
  opset: number;
  producer: string;
  graph: OnnxGraphInfo;
}

const VALUE_LIMIT = 4096;

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }
  get more(): boolean {
    return this.pos < this.end;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  }
  int(): number {
    return Number(BigInt.asIntN(64, this.varint()));
  }
  /** Returns [field, wire type]. */
  tag(): [number, number] {
    const t = Number(this.varint());
    return [t >>> 3, t & 7];
  }
  bytes(): Uint8Array {
    const n = Number(this.varint());
    const b = this.buf.subarray(this.pos, this.pos + n);
    if (this.pos + n > this.end) throw new Error('truncated length-delimited field');
    this.pos += n;
    return b;
  }
  sub(): Reader {
    const n = Number(this.varint());
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
  str(): string {
    return new TextDecoder().decode(this.bytes());
  }
  float(): number {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      const n = Number(this.varint()); // read first: `pos += varint()` would add to the pre-varint pos
      this.pos += n;
    }
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  /** A repeated varint field, packed (wire 2) or not (wire 0). */
  ints(wire: number, into: number[]): void {
    if (wire === 2) {
      const r = this.sub();
      while (r.more) into.push(r.int());
    } else into.push(this.int());
  }
}

function rawValues(raw: Uint8Array, dataType: number, count: number): number[] | undefined {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    if (dataType === ONNX_INT64) out.push(Number(dv.getBigInt64(i * 8, true)));
    else if (dataType === ONNX_INT32) out.push(dv.getInt32(i * 4, true));
    else if (dataType === ONNX_FLOAT) out.push(dv.getFloat32(i * 4, true));
    else if (dataType === ONNX_DOUBLE) out.push(dv.getFloat64(i * 8, true));
    else if (dataType === ONNX_BOOL) out.push(raw[i]!);
    else return undefined;
  }
  return out;
}

function readTensor(r: Reader): OnnxTensorInfo {
  const t: OnnxTensorInfo = { name: '', dims: [], dataType: 0 };
  const typed: number[] = [];
  let raw: Uint8Array | undefined;
  while (r.more) {
    const [f, w] = r.tag();
    if (f === 1) r.ints(w, t.dims);
    else if (f === 2) t.dataType = r.int();
    else if (f === 8) t.name = r.str();
    else if (f === 9) raw = r.bytes();
    else if ((f === 5 || f === 7) && typed.length <= VALUE_LIMIT) r.ints(w, typed);
    else if (f === 4 && w === 2) {
      const s = r.sub();
      while (s.more && typed.length <= VALUE_LIMIT) typed.push(s.float());
      r.pos = s.end;
    } else if (f === 4 && w === 5) typed.push(r.float());
    else r.skip(w);
  }
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count <= VALUE_LIMIT) {
    const v = raw ? rawValues(raw, t.dataType, count) : typed.length === count ? typed : undefined;
    if (v) t.values = v;
  }
  return t;
}

function readValueInfo(r: Reader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0 };
  while (r.more) {
    const [f, w] = r.tag();
    if (f === 1) v.name = r.str();
    else if (f === 2) {
      const type = r.sub();
      while (type.more) {
        const [tf, tw] = type.tag();
        if (tf !== 1) {
          type.skip(tw);
          continue;
        }
        const tensor = type.sub();
        while (tensor.more) {
          const [ef, ew] = tensor.tag();
          if (ef === 1) v.elemType = tensor.int();
          else if (ef === 2) {
            const shape = tensor.sub();
            v.shape = [];
            while (shape.more) {
              const [sf, sw] = shape.tag();
              if (sf !== 1) {
                shape.skip(sw);
                continue;
              }
              const dim = shape.sub();
              let d: ShapeDim = '?';
              while (dim.more) {
                const [df, dw] = dim.tag();
                if (df === 1) d = dim.int();
                else if (df === 2) d = dim.str();
                else dim.skip(dw);
              }
              v.shape.push(d);
            }
          } else tensor.skip(ew);
        }
      }
    } else r.skip(w);
  }
  return v;
}

function readAttr(r: Reader): [string, OnnxAttrValue | undefined] {
  let name = '';
  let value: OnnxAttrValue | undefined;
  const ints: number[] = [];
  const floats: number[] = [];
  while (r.more) {
    const [f, w] = r.tag();
    if (f === 1) name = r.str();
    else if (f === 2) value = r.float();
    else if (f === 3) value = r.int();
    else if (f === 4) value = r.str();
    else if (f === 5) value = readTensor(r.sub());
    else if (f === 6) value = readGraph(r.sub());
    else if (f === 7) {
      if (w === 2) {
        const s = r.sub();
        while (s.more) floats.push(s.float());
      } else floats.push(r.float());
    } else if (f === 8) r.ints(w, ints);
    else r.skip(w);
  }
  if (value === undefined && ints.length) value = ints;
  if (value === undefined && floats.length) value = floats;
  return [name, value];
}

function readNode(r: Reader): OnnxNodeInfo {
  const n: OnnxNodeInfo = { op: '', name: '', domain: '', inputs: [], outputs: [], attrs: {} };
  while (r.more) {
    const [f, w] = r.tag();
    if (f === 1) n.inputs.push(r.str());
    else if (f === 2) n.outputs.push(r.str());
    else if (f === 3) n.name = r.str();
    else if (f === 4) n.op = r.str();
    else if (f === 7) n.domain = r.str();
    else if (f === 5) {
      const [k, v] = readAttr(r.sub());
      if (v !== undefined) n.attrs[k] = v;
    } else r.skip(w);
  }
  return n;
}

function readGraph(r: Reader): OnnxGraphInfo {
  const g: OnnxGraphInfo = { name: '', nodes: [], initializers: new Map(), inputs: [], outputs: [], valueInfo: new Map() };
  while (r.more) {
    const [f, w] = r.tag();
    if (f === 1) g.nodes.push(readNode(r.sub()));
    else if (f === 2) g.name = r.str();
    else if (f === 5) {
      const t = readTensor(r.sub());
      g.initializers.set(t.name, t);
    } else if (f === 11) g.inputs.push(readValueInfo(r.sub()));
    else if (f === 12) g.outputs.push(readValueInfo(r.sub()));
    else if (f === 13) {
      const v = readValueInfo(r.sub());
      g.valueInfo.set(v.name, v);
    } else r.skip(w);
  }
  return g;
}

/** Parses a serialised ONNX model. */
export function parseOnnxModel(bytes: Uint8Array): OnnxModelInfo {
  const r = new Reader(bytes);
  const m: OnnxModelInfo = { irVersion: 0, opset: 0, producer: '', graph: { name: '', nodes: [], initializers: new Map(), inputs: [], outputs: [], valueInfo: new Map() } };
  while (r.more) {
    const [f, w] = r.tag();
    if (f === 1) m.irVersion = r.int();
    else if (f === 2) m.producer = r.str();
    else if (f === 7) m.graph = readGraph(r.sub());
    else if (f === 8) {
      const o = r.sub();
      let domain = '';
      let version = 0;
      while (o.more) {
        const [of, ow] = o.tag();
        if (of === 1) domain = o.str();
        else if (of === 2) version = o.int();
        else o.skip(ow);
      }
      if (domain === '' || domain === 'ai.onnx') m.opset = version;
    } else r.skip(w);
  }
  return m;
}

/** Reads and parses an ONNX file; errors name the file. */
export function readOnnxModel(file: string): OnnxModelInfo {
  try {
    return parseOnnxModel(readFileSync(file));
  } catch (cause) {
    throw new Error(`cannot parse ONNX model ${file}: ${(cause as Error).message}`, { cause });
  }
}
