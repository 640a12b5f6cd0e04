#!/usr/bin/env python3
"""Float16 copy of a float32 ONNX graph, for GPU execution providers (CUDA, DirectML, CoreML).

Every float32 weight, constant and intermediate tensor becomes float16 and every Cast to float32
becomes a Cast to float16, so the arithmetic runs in half precision; the graph's inputs and outputs
stay float32 (a Cast after each input and before each output), so Delineate feeds and reads it
exactly like the float32 graph. Inputs that ONNX requires in float32 keep it (Resize's roi and
scales). Float64 islands (MedLAM's InstanceNorm, exported in float64) stay float64.

ONNX Runtime's CPU provider has no float16 Conv/MatMul kernels on x86, so such a file cannot open
on CPU: list it in the manifest with "executionProviders": ["cuda", "dml", "coreml"] beside the
float32 entry of the same role (models/README.md, "Precision and execution providers").

Requires Debian's python3-onnx. Usage:
  python3 models/export/to_fp16.py IN.onnx OUT.onnx
Prints JSON {out, sha256}.
"""
import hashlib
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# (op_type, input index) that the ONNX spec types as float32 whatever the data's type.
KEEP_FLOAT32 = {('Resize', 1), ('Resize', 2), ('Upsample', 1)}


def _half_boundary(g, values, is_output):
    """Renames each float32 graph input (or output) to a float16 tensor NAME__fp16 in the nodes and
    returns the Cast nodes that join it to the float32 name the caller feeds (or reads)."""
    casts = []
    for v in values:
        if v.type.tensor_type.elem_type != TensorProto.FLOAT:
            continue
        half = v.name + '__fp16'
        for n in g.node:
            if is_output:
                for i, name in enumerate(n.output):
                    if name == v.name:
                        n.output[i] = half
            # An output may also feed later nodes (MedLAM's feature0 and feature1 do).
            for i, name in enumerate(n.input):
                if name == v.name:
                    n.input[i] = half
        if is_output:
            casts.append(helper.make_node('Cast', [half], [v.name], to=TensorProto.FLOAT, name=v.name + '_cast'))
        else:
            casts.append(helper.make_node('Cast', [v.name], [half], to=TensorProto.FLOAT16, name=half + '_cast'))
    return casts


def convert(model):
    g = model.graph
    keep = set()
    for n in g.node:
        for i, name in enumerate(n.input):
            if (n.op_type, i) in KEEP_FLOAT32 and name:
                keep.add(name)
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT and init.name not in keep:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for n in g.node:
        for a in n.attribute:
            if n.op_type == 'Cast' and a.name == 'to' and a.i == TensorProto.FLOAT:
                a.i = TensorProto.FLOAT16
            elif a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT and not (set(n.output) & keep):
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
    head = _half_boundary(g, g.input, is_output=False)
    tail = _half_boundary(g, g.output, is_output=True)
    nodes = head + list(g.node) + tail
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    onnx.checker.check_model(model)
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    onnx.save(convert(onnx.load(src)), dst)
    with open(dst, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(json.dumps({'out': dst, 'sha256': digest}))


if __name__ == '__main__':
    main()
