import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel, type OnnxNode, type OnnxValue } from '../../../electron/engine/models/onnx-builder.js';
import { parseOnnxModel } from '../../../electron/engine/models/onnx-graph.js';
import { countGraphFlops, countModelFlops } from '../../../electron/engine/models/flops.js';
import { REPO_ROOT, parityDir } from '../../helpers/data.js';

function graph(nodes: OnnxNode[], inputs: OnnxValue[], outputs: OnnxValue[]) {
  return parseOnnxModel(buildModel({ name: 't', nodes, inputs, outputs })).graph;
}

test('the reader returns what the builder wrote: nodes, attributes, inputs with symbolic dims', () => {
  const g = graph(
    [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'c', attrs: [{ name: 'group', int: 2 }, { name: 'pads', ints: [1, 1, 1, 1] }] }],
    [{ name: 'x', shape: ['B', 4, 8, 8] }, { name: 'w', shape: [6, 2, 3, 3] }],
    [{ name: 'y', shape: ['B', 6, 8, 8] }],
  );
  assert.equal(g.nodes.length, 1);
  assert.deepEqual(g.nodes[0], { op: 'Conv', name: 'c', domain: '', inputs: ['x', 'w'], outputs: ['y'], attrs: { group: 2, pads: [1, 1, 1, 1] } });
  assert.deepEqual(g.inputs.map((i) => i.shape), [['B', 4, 8, 8], [6, 2, 3, 3]]);
});

test('Conv: grouped, strided, padded 3-D convolution counts output x (C / group) x kernel multiply-adds', () => {
  const g = graph(
    [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: [{ name: 'group', int: 2 }, { name: 'strides', ints: [2, 2, 2] }, { name: 'pads', ints: [1, 1, 1, 1, 1, 1] }] }],
    [{ name: 'x', shape: [1, 4, 10, 12, 14] }, { name: 'w', shape: [6, 2, 3, 3, 3] }],
    [{ name: 'y', shape: [1, 6, 'a', 'b', 'c'] }],
  );
  // Output spatial floor((n + 2 - 3) / 2) + 1 = 5, 6, 7.
  const c = countGraphFlops(g, {});
  assert.equal(c.flops, 2 * 6 * 5 * 6 * 7 * (2 * 27));
  assert.deepEqual(c.unresolved, []);
});

test('MatMul broadcasts batch dimensions; Gemm honours transB; ConvTranspose counts input x (M / group) x kernel', () => {
  const g = graph(
    [
      { op: 'MatMul', inputs: ['a', 'b'], outputs: ['m'] },
      { op: 'Gemm', inputs: ['p', 'q'], outputs: ['n'], attrs: [{ name: 'transB', int: 1 }] },
      { op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs: [{ name: 'strides', ints: [2, 2] }] },
      { op: 'MatMul', inputs: ['y2', 'v'], outputs: ['z'] },
    ],
    [
      { name: 'a', shape: [2, 3, 5, 7] }, { name: 'b', shape: [7, 4] },
      { name: 'p', shape: [8, 16] }, { name: 'q', shape: [32, 16] },
      { name: 'x', shape: [1, 8, 4, 4] }, { name: 'w', shape: [8, 3, 2, 2] },
      { name: 'y2', shape: [1, 3, 8, 8] }, { name: 'v', shape: [8, 5] },
    ],
    [{ name: 'm', shape: [2, 3, 5, 4] }, { name: 'n', shape: [8, 32] }, { name: 'y', shape: [1, 3, 8, 8] }, { name: 'z', shape: [1, 3, 8, 5] }],
  );
  const c = countGraphFlops(g, {});
  assert.equal(c.byOp.MatMul, 2 * (2 * 3 * 5 * 4 * 7 + 3 * 8 * 5 * 8));
  assert.equal(c.byOp.Gemm, 2 * 8 * 32 * 16);
  assert.equal(c.byOp.ConvTranspose, 2 * 8 * 16 * 3 * 4);
  assert.equal(c.nodes.MatMul, 2);
});

test('shapes computed inside the graph (Shape -> Slice -> Concat -> Reshape) are followed', () => {
  const g = graph(
    [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Slice', inputs: ['s', 'zero', 'one'], outputs: ['b'] },
      { op: 'Concat', inputs: ['b', 'minus1'], outputs: ['t'], attrs: [{ name: 'axis', int: 0 }] },
      { op: 'Reshape', inputs: ['x', 't'], outputs: ['r'] },
      { op: 'MatMul', inputs: ['r', 'w'], outputs: ['y'] },
    ],
    [{ name: 'x', shape: [2, 3, 4] }, { name: 'zero', shape: [1], elemType: 7 }, { name: 'one', shape: [1], elemType: 7 }, { name: 'minus1', shape: [1], elemType: 7 }, { name: 'w', shape: [12, 5] }],
    [{ name: 'y', shape: ['n', 5] }],
  );
  const c = countGraphFlops(g, { zero: { shape: [1], values: [0] }, one: { shape: [1], values: [1] }, minus1: { shape: [1], values: [-1] } });
  assert.equal(c.flops, 2 * 2 * 5 * 12);
  // Without the values the reshape target is unknown: the MatMul is reported, not guessed.
  const u = countGraphFlops(g, {});
  assert.equal(u.flops, 0);
  assert.deepEqual(u.unresolved, ['MatMul y']);
});

test('a symbolic input dimension without a concrete value leaves dependent nodes unresolved', () => {
  const g = graph([{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }], [{ name: 'a', shape: ['N', 4] }, { name: 'b', shape: [4, 2] }], [{ name: 'y', shape: ['N', 2] }]);
  assert.deepEqual(countGraphFlops(g, {}).unresolved, ['MatMul y']);
  assert.equal(countGraphFlops(g, { a: { shape: [10, 4] } }).flops, 2 * 10 * 4 * 2);
});

/** MedLAM (models/export/export_medlam.py): 3x3x3 convolutions, padding 1, at 64, 32, 16, 8, 4 voxels. */
function medlamMacs(b: number, full: boolean): number {
  const v = (n: number): number => n ** 3;
  let convs = v(64) * (1 * 2 * b + 2 * b * 2 * b) + v(32) * 2 * (2 * b) ** 2 + v(16) * (2 * b * 2 * b + 2 * b * 4 * b) +
    v(8) * (4 * b * 4 * b + 4 * b * 8 * b) + v(4) * (8 * b * 8 * b + 8 * b * 16 * b);
  if (full) convs += v(8) * (24 * b * 8 * b + 8 * b * 8 * b) + v(16) * (12 * b * 4 * b + 4 * b * 4 * b) + v(32) * (6 * b * 4 * b + 4 * b * 4 * b) + v(64) * (6 * b * 4 * b + 4 * b * 4 * b);
  const fc = 64 * 16 * b * 8 * b + 8 * b * 4 * b + 4 * b * 3;
  return 27 * convs + fc;
}

test('the tiny MedLAM fixtures count exactly the architecture\'s convolutions and fully connected layers', () => {
  const dir = join(REPO_ROOT, 'test/fixtures/models/medlam-tiny');
  const x = { x: { shape: [1, 1, 64, 64, 64] } };
  const fc = countModelFlops(join(dir, 'medlam_tiny_fc.onnx'), x);
  assert.equal(fc.flops, 2 * medlamMacs(1, false));
  assert.deepEqual(fc.nodes, { Conv: 10, Gemm: 3 });
  const full = countModelFlops(join(dir, 'medlam_tiny_full.onnx'), x);
  assert.equal(full.flops, 2 * medlamMacs(1, true));
  // A batch of 3 patches is 3 times the convolutions and the fully connected layers.
  assert.equal(countModelFlops(join(dir, 'medlam_tiny_full.onnx'), { x: { shape: [3, 1, 64, 64, 64] } }).flops, 3 * full.flops);
});

test('the tiny SAM fixture encoder (an average pool) has no counted arithmetic', () => {
  const c = countModelFlops(join(REPO_ROOT, 'test/fixtures/models/sam/tiny_sam_encoder.onnx'), { image: { shape: [1, 3, 1024, 1024] } });
  assert.equal(c.flops, 0);
  assert.deepEqual(c.unresolved, []);
});

test('a SAM ViT encoder exported by PyTorch counts patch embedding, windowed and global attention, rel-pos and neck', (t) => {
  const file = join(parityDir(), 'models', 'sam_small_encoder.onnx');
  if (!existsSync(file)) return t.skip(`${file} is absent`);
  // embed 64, depth 2, 2 heads, window 14 (block 0), global attention (block 1), 64x64 tokens.
  const d = 64;
  const tok = 64 * 64;
  const win = 25 * 14 * 14; // 64 padded to 70: 5 x 5 windows
  const patch = tok * 3 * 16 * 16 * d;
  const neck = tok * d * 256 + tok * 256 * 256 * 9;
  const linear = (win + tok) * 4 * d * d + 2 * tok * 2 * d * 4 * d; // qkv + proj on the (padded) tokens, MLP on 4096
  const attn = 25 * 2 * 196 * 196 * (d / 2) * 2 + 2 * tok * tok * (d / 2) * 2;
  const relPos = 25 * 2 * 196 * 14 * (d / 2) * 2 + 2 * tok * 64 * (d / 2) * 2;
  const c = countModelFlops(file, { image: { shape: [1, 3, 1024, 1024] } });
  assert.deepEqual(c.unresolved, []);
  assert.equal(c.byOp.Conv, 2 * (patch + neck));
  assert.equal(c.byOp.MatMul, 2 * (linear + attn));
  assert.equal(c.byOp.Einsum, 2 * relPos);
});
