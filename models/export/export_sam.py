#!/usr/bin/env python3
"""Convert a SAM or MedSAM checkpoint to Delineate's encoder + decoder ONNX contract and manifest.

Needs the OFFICIAL `segment_anything` package (github.com/facebookresearch/segment-anything; MedSAM's
checkpoints load into the same classes) importable, plus PyTorch and onnx (Debian: python3-torch,
python3-onnx). Weights are never downloaded here: pass the checkpoint you obtained.

  python3 models/export/export_sam.py --checkpoint medsam_vit_b.pth --out MODELS_DIR --name medsam
  python3 models/export/export_sam.py --checkpoint sam_vit_b_01ec64.pth --out MODELS_DIR --name sam
  python3 models/export/export_sam.py --random-seed 0 --out MODELS_DIR --name sam-random   (benchmarks)
  python3 models/export/export_sam.py --random-seed 12 --embed-dim 64 --depth 2 --heads 2 --global-attn 1 ...
      (small random models with the full contract, as the parity goldens use)

Writes MODELS_DIR/<name>_encoder.onnx, MODELS_DIR/<name>_decoder.onnx and adds/replaces the entries
"<name>-encoder" (role sam-encoder, with the preprocessing constants) and "<name>-decoder" (role
sam-decoder) in MODELS_DIR/manifest.json, with sha256 of each file.

Contract (electron/engine/segment/sam-onnx.ts):
  encoder  image [1,3,1024,1024] float32, already (x - pixel_mean) / pixel_std  ->  image_embeddings [1,256,64,64]
  decoder  segment_anything.utils.onnx.SamOnnxModel(return_single_mask=False), exported as the
           official scripts/export_onnx_model.py does (dynamic number of points, opset 17):
           image_embeddings, point_coords [1,N,2], point_labels [1,N], mask_input [1,1,256,256],
           has_mask_input [1], orig_im_size [2] -> masks [1,4,H,W], iou_predictions [1,4],
           low_res_masks [1,4,256,256].
  All four masks are exposed: MedSAM was trained with multimask_output=False, which is mask token 0,
  and Delineate selects index 0 itself. A decoder that picks a mask by predicted IoU
  (return_single_mask=True) is refused by the application.
"""
import argparse
import hashlib
import json
import os
import sys
import warnings

import torch

try:
    from segment_anything import sam_model_registry
    from segment_anything.build_sam import _build_sam
    from segment_anything.utils.onnx import SamOnnxModel
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.exit(f'export_sam.py needs the official segment_anything package on PYTHONPATH ({e}); '
             'install it from github.com/facebookresearch/segment-anything')

MEDSAM_CONSTANTS = {
    'windowHu': [-500, 1000],
    'imageSize': 1024,
    'resizeOrder': 2,
    'pixelMean': [123.675, 116.28, 103.53],
    'pixelStd': [58.395, 57.12, 57.375],
    'boxPaddingPx': 10,
}
DECODER_INPUTS = ['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input', 'orig_im_size']
DECODER_OUTPUTS = ['masks', 'iou_predictions', 'low_res_masks']


class EncoderOnnx(torch.nn.Module):
    """The image encoder alone: normalisation and resizing stay in the application (preprocess.ts)."""

    def __init__(self, sam):
        super().__init__()
        self.image_encoder = sam.image_encoder

    def forward(self, image):
        return self.image_encoder(image)


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def build(args):
    if args.checkpoint:
        sam = sam_model_registry[args.model_type](checkpoint=None)
        state = torch.load(args.checkpoint, map_location='cpu')
        if isinstance(state, dict) and 'model' in state and isinstance(state['model'], dict):
            state = state['model']
        sam.load_state_dict(state)
        return sam.eval()
    torch.manual_seed(args.random_seed)
    if args.embed_dim:
        sam = _build_sam(encoder_embed_dim=args.embed_dim, encoder_depth=args.depth, encoder_num_heads=args.heads,
                         encoder_global_attn_indexes=args.global_attn)
    else:
        sam = sam_model_registry[args.model_type](checkpoint=None)
    return sam.eval()


def export(sam, out, name, opset):
    enc_file = f'{name}_encoder.onnx'
    dec_file = f'{name}_decoder.onnx'
    size = sam.image_encoder.img_size
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', category=UserWarning)
        with torch.no_grad():
            torch.onnx.export(EncoderOnnx(sam), (torch.zeros(1, 3, size, size),), os.path.join(out, enc_file),
                              opset_version=opset, input_names=['image'], output_names=['image_embeddings'],
                              do_constant_folding=True)
        onnx_model = SamOnnxModel(sam, return_single_mask=False)
        embed_dim = sam.prompt_encoder.embed_dim
        embed_size = sam.prompt_encoder.image_embedding_size
        mask_input_size = [4 * x for x in embed_size]
        dummy = {
            'image_embeddings': torch.randn(1, embed_dim, *embed_size, dtype=torch.float),
            'point_coords': torch.randint(low=0, high=1024, size=(1, 5, 2), dtype=torch.float),
            'point_labels': torch.randint(low=0, high=4, size=(1, 5), dtype=torch.float),
            'mask_input': torch.randn(1, 1, *mask_input_size, dtype=torch.float),
            'has_mask_input': torch.tensor([1], dtype=torch.float),
            'orig_im_size': torch.tensor([1500, 2250], dtype=torch.float),
        }
        _ = onnx_model(**dummy)
        with open(os.path.join(out, dec_file), 'wb') as f:
            torch.onnx.export(onnx_model, tuple(dummy.values()), f, export_params=True, verbose=False,
                              opset_version=opset, do_constant_folding=True, input_names=DECODER_INPUTS,
                              output_names=DECODER_OUTPUTS,
                              dynamic_axes={'point_coords': {1: 'num_points'}, 'point_labels': {1: 'num_points'}})
    return enc_file, dec_file


def write_manifest(out, name, enc_file, dec_file, source):
    path = os.path.join(out, 'manifest.json')
    manifest = {'format': 1, 'models': []}
    if os.path.exists(path):
        with open(path) as f:
            manifest = json.load(f)
    names = {f'{name}-encoder', f'{name}-decoder'}
    manifest['models'] = [m for m in manifest.get('models', []) if m.get('name') not in names]
    manifest['models'].append({
        'name': f'{name}-encoder', 'role': 'sam-encoder', 'file': enc_file, 'sha256': sha256(os.path.join(out, enc_file)),
        'inputs': ['image'], 'outputs': ['image_embeddings'], 'precision': 'fp32', 'constants': MEDSAM_CONSTANTS,
        'source': source,
    })
    manifest['models'].append({
        'name': f'{name}-decoder', 'role': 'sam-decoder', 'file': dec_file, 'sha256': sha256(os.path.join(out, dec_file)),
        'inputs': DECODER_INPUTS, 'outputs': DECODER_OUTPUTS, 'precision': 'fp32', 'source': source,
    })
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    os.replace(tmp, path)


def quantize_encoder(out, name, enc_file, source):
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as e:
        sys.exit(f'--quantize-encoder needs the onnxruntime Python package ({e})')
    q_file = f'{name}_encoder_int8.onnx'
    quantize_dynamic(os.path.join(out, enc_file), os.path.join(out, q_file), op_types_to_quantize=['MatMul'], weight_type=QuantType.QInt8)
    path = os.path.join(out, 'manifest.json')
    with open(path) as f:
        manifest = json.load(f)
    manifest['models'] = [m for m in manifest['models'] if m.get('name') != f'{name}-encoder-int8']
    manifest['models'].append({
        'name': f'{name}-encoder-int8', 'role': 'sam-encoder-int8', 'file': q_file, 'sha256': sha256(os.path.join(out, q_file)),
        'inputs': ['image'], 'outputs': ['image_embeddings'], 'constants': MEDSAM_CONSTANTS, 'source': source,
    })
    with open(path + '.tmp', 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    os.replace(path + '.tmp', path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--checkpoint', help='official SAM or MedSAM checkpoint (.pth state_dict)')
    src.add_argument('--random-seed', type=int, help='random weights (benchmarks and tests only)')
    p.add_argument('--model-type', default='vit_b', choices=['vit_b', 'vit_l', 'vit_h'])
    p.add_argument('--embed-dim', type=int, help='with --random-seed: encoder width (default: the model type)')
    p.add_argument('--depth', type=int, default=2)
    p.add_argument('--heads', type=int, default=2)
    p.add_argument('--global-attn', type=int, nargs='*', default=[1])
    p.add_argument('--out', required=True, help='models folder (manifest.json is created or updated)')
    p.add_argument('--name', default='medsam', help='model name prefix in the manifest and file names')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument('--quantize-encoder', action='store_true',
                   help='also write <name>_encoder_int8.onnx (dynamic int8 MatMul weights; needs the onnxruntime Python package), role sam-encoder-int8')
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_grad_enabled(False)
    sam = build(args)
    enc_file, dec_file = export(sam, args.out, args.name, args.opset)
    if args.checkpoint:
        source = {'checkpoint': os.path.basename(args.checkpoint), 'checkpoint_sha256': sha256(args.checkpoint), 'model_type': args.model_type}
    else:
        source = {'random_seed': args.random_seed, 'model_type': args.model_type if not args.embed_dim else 'custom',
                  'embed_dim': args.embed_dim, 'note': 'random weights: for benchmarks and tests, not for patients'}
    write_manifest(args.out, args.name, enc_file, dec_file, source)
    if args.quantize_encoder:
        quantize_encoder(args.out, args.name, enc_file, source)
    print(json.dumps({'out': args.out, 'encoder': enc_file, 'decoder': dec_file}))


if __name__ == '__main__':
    main()
