#!/usr/bin/env python3
"""Export MedLAM to ONNX for Delineate: the full graph (fc_position + feature0..2) and an fc-only graph
(encoder + fully connected head, no decoder) from the same weights, plus manifest.json.

The network definition below follows the reference (openmedlab/MedLSAM networks/medlam.py and
networks/layers.py) with the official checkpoint's parameter names, so
`--checkpoint medlam.pth` loads the published weights (the DataParallel `module.` prefix is stripped).
Without a checkpoint the weights are PyTorch's default random initialisation after
torch.manual_seed(--seed): same cost as real weights, for benchmarks and test fixtures.

Every InstanceNorm3d is exported as a float64 two-pass mean and variance (--instance-norm float64,
the default): ONNX Runtime's float32 InstanceNormalization drifts about 1e-4 relative over 64^3 voxels
and flips multi-scale-similarity argmaxes (parity README O1).

Requires Debian's python3-torch and python3-onnx (CPU). Usage:
  python3 models/export/export_medlam.py --out DIR [--checkpoint medlam.pth | --seed 11]
         [--base-chns 24] [--fp16] [--instance-norm float64|float32]

The manifest lists the float32 graphs under the roles medlam-full and medlam-fc; --fp16 adds
float16 copies (to_fp16.py: half-precision arithmetic, float32 inputs and outputs) under the same
roles, listed first and marked "executionProviders": ["cuda", "dml", "coreml"], so GPU providers use
them and CPU keeps the float32 graphs.
"""
import argparse
import hashlib
import json
import math
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn


class depthwise(nn.Module):
    def __init__(self, cin, cout, kernel_size=3, stride=1, padding=3, dilation=1):
        super().__init__()
        self.Conv = nn.Conv3d(cin, cout, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)

    def forward(self, x):
        return self.Conv(x)


class InstanceNorm64(nn.Module):
    """InstanceNorm3d (affine=False, eps 1e-5) computed in float64: what PyTorch's CPU kernel accumulates in."""

    def __init__(self, eps=1e-5):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        d = x.double()
        mean = d.mean(dim=(2, 3, 4), keepdim=True)
        c = d - mean
        var = (c * c).mean(dim=(2, 3, 4), keepdim=True)
        return (c / torch.sqrt(var + self.eps)).to(x.dtype)


class SingleConv3D(nn.Module):
    def __init__(self, cin, cout, dilat=1):
        super().__init__()
        self.model = nn.Sequential(OrderedDict([
            ('conv1_1', depthwise(cin, cout, 3, padding=dilat, dilation=dilat)),
            ('norm1_1', nn.InstanceNorm3d(cout)),
            ('relu1_1', nn.ReLU(inplace=True)),
        ]))

    def forward(self, x):
        return self.model(x)


class MedLAM(nn.Module):
    def __init__(self, inc=1, patch_size=(64, 64, 64), n_classes=3, base_chns=24):
        super().__init__()
        b = base_chns
        self.upsample = nn.Upsample(scale_factor=2, mode='trilinear')
        self.downsample = nn.MaxPool3d(2, 2)
        self.drop = nn.Dropout(0)
        self.conv0_1 = SingleConv3D(inc, 2 * b)
        self.conv0_2 = SingleConv3D(2 * b, 2 * b)
        self.conv1_1 = SingleConv3D(2 * b, 2 * b)
        self.conv1_2 = SingleConv3D(2 * b, 2 * b)
        self.conv2_1 = SingleConv3D(2 * b, 2 * b)
        self.conv2_2 = SingleConv3D(2 * b, 4 * b)
        self.conv3_1 = SingleConv3D(4 * b, 4 * b)
        self.conv3_2 = SingleConv3D(4 * b, 8 * b)
        self.conv4_1 = SingleConv3D(8 * b, 8 * b, dilat=math.ceil(1 / 2))
        self.conv4_2 = SingleConv3D(8 * b, 16 * b, dilat=math.ceil(1 / 2))
        self.conv5_1 = SingleConv3D(24 * b, 8 * b)
        self.conv5_2 = SingleConv3D(8 * b, 8 * b)
        self.conv6_1 = SingleConv3D(12 * b, 4 * b)
        self.conv6_2 = SingleConv3D(4 * b, 4 * b)
        self.conv7_1 = SingleConv3D(6 * b, 4 * b)
        self.conv7_2 = SingleConv3D(4 * b, 4 * b)
        self.conv8_1 = SingleConv3D(6 * b, 4 * b)
        self.conv8_2 = SingleConv3D(4 * b, 4 * b)
        self.classification = nn.Sequential(nn.Conv3d(in_channels=4 * b, out_channels=n_classes, kernel_size=1))
        fc_inc = int(np.asarray(patch_size).prod() / 4096) * 16 * b
        self.fc1 = nn.Linear(fc_inc, 8 * b)
        self.fc2 = nn.Linear(8 * b, 4 * b)
        self.fc3 = nn.Linear(4 * b, 3)

    def encode(self, x):
        out = self.conv0_1(x)
        conv0 = self.conv0_2(out)
        out = self.conv1_1(self.downsample(conv0))
        conv1 = self.conv1_2(out)
        out = self.conv2_1(self.downsample(conv1))
        conv2 = self.conv2_2(out)
        out = self.conv3_1(self.downsample(conv2))
        conv3 = self.conv3_2(out)
        out = self.conv4_1(self.downsample(conv3))
        out = self.drop(self.conv4_2(out))
        return out, conv0, conv1, conv2, conv3

    def fc(self, out):
        f = out.reshape(out.shape[0], -1)
        return self.fc3(self.fc2(self.fc1(f)))

    def forward(self, x):
        out, conv0, conv1, conv2, conv3 = self.encode(x)
        fc = self.fc(out)
        out = self.conv5_2(self.conv5_1(torch.cat((self.upsample(out), conv3), 1)))
        feature0 = self.conv6_2(self.conv6_1(torch.cat((self.upsample(out), conv2), 1)))
        feature1 = self.conv7_2(self.conv7_1(torch.cat((self.upsample(feature0), conv1), 1)))
        feature2 = self.conv8_2(self.conv8_1(torch.cat((self.upsample(feature1), conv0), 1)))
        return fc, feature0, feature1, feature2


class FcOnly(nn.Module):
    """Encoder and fully connected head only: the coarse stage needs fc_position, not the decoder."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.fc(self.net.encode(x)[0])


def use_float64_instance_norm(module):
    for name, child in module.named_children():
        if isinstance(child, nn.InstanceNorm3d):
            setattr(module, name, InstanceNorm64(child.eps))
        else:
            use_float64_instance_norm(child)


def build(args):
    if args.checkpoint:
        net = MedLAM(base_chns=args.base_chns)
        state = torch.load(args.checkpoint, map_location='cpu')
        state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
        net.load_state_dict(state)
    else:
        torch.manual_seed(args.seed)
        net = MedLAM(base_chns=args.base_chns)
    return net.eval()


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 22), b''):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--checkpoint')
    ap.add_argument('--seed', type=int, default=11)
    ap.add_argument('--base-chns', type=int, default=24)
    ap.add_argument('--fp16', action='store_true', help='also write float16 copies for GPU providers (see to_fp16.py)')
    ap.add_argument('--instance-norm', choices=['float64', 'float32'], default='float64')
    ap.add_argument('--name', default='medlam')
    ap.add_argument('--state-dict-out', help='also save the (random) state_dict, for the reference timing')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    net = build(args)
    if args.state_dict_out:
        torch.save(net.state_dict(), args.state_dict_out)
    if args.instance_norm == 'float64':
        use_float64_instance_norm(net)
    x = torch.zeros(1, 1, 64, 64, 64)
    constants = {
        'patchSize': [64, 64, 64], 'padEachSide': 32, 'targetSpacingMm': [3, 3, 3],
        'distanceRatioZyx': [1500, 600, 600],
        'normalisationThresholdsHu': [-1000, -200, 200, 1500], 'normalisationValues': [0, 0.2, 0.8, 1],
        'kernelSizes': [2, 4, 8], 'queryCrops': 10, 'queryCropRange': 10, 'sliceInterval': 2, 'maxParts': 6,
    }
    graphs = [
        ('full', 'medlam-full', net, ['fc_position', 'feature0', 'feature1', 'feature2']),
        ('fc', 'medlam-fc', FcOnly(net).eval(), ['fc_position']),
    ]
    models = []
    for tag, role, module, outputs in graphs:
        file = f'{args.name}_{tag}.onnx'
        path = os.path.join(args.out, file)
        with torch.no_grad():
            torch.onnx.export(module, (x,), path, input_names=['x'], output_names=outputs, opset_version=17,
                              dynamic_axes={'x': {0: 'B'}, **{o: {0: 'B'} for o in outputs}})
        variants = [(file, '', 'fp32')]
        if args.fp16:
            import onnx
            from to_fp16 import convert
            f16 = f'{args.name}_{tag}_fp16.onnx'
            onnx.save(convert(onnx.load(path)), os.path.join(args.out, f16))
            variants.insert(0, (f16, '-fp16', 'fp16'))
        for f, suffix, precision in variants:
            entry = {'name': f'{args.name}-{tag}{suffix}', 'role': role, 'file': f,
                     'sha256': sha256(os.path.join(args.out, f)), 'inputs': ['x'], 'outputs': outputs, 'precision': precision}
            if precision == 'fp16':
                entry['executionProviders'] = ['cuda', 'dml', 'coreml']
            if role == 'medlam-full':
                entry['constants'] = constants
            models.append(entry)
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump({'format': 1, 'models': models}, f, indent=1)
    print(json.dumps({'out': args.out, 'models': [m['file'] for m in models]}))


if __name__ == '__main__':
    main()
