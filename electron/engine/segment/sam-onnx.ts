/**
 * The SAM ONNX contract (segment-anything `scripts/export_onnx_model.py` with
 * `SamOnnxModel(return_single_mask=False)`, and the image encoder exported on its own):
 *
 * encoder: image [1,3,S,S] float32 (already (x-mean)/std) -> image_embeddings [1,256,64,64]
 * decoder: image_embeddings, point_coords [1,N,2], point_labels [1,N], mask_input [1,1,256,256],
 *          has_mask_input [1], orig_im_size [2] -> masks [1,M,H,W], iou_predictions [1,M],
 *          low_res_masks [1,M,256,256]
 *
 * A box is two points labelled 2 (top-left) and 3 (bottom-right) with no padding point (SAM's prompt
 * encoder adds none when a box is given; parity README M7). MedSAM is used with multimask_output=False,
 * which is mask token 0: a decoder exported with return_single_mask=True picks a mask by predicted
 * IoU instead, so it is refused.
 */
import { ModelError } from '../errors.js';
import { openSession, ort, runSession, type Session, type SessionOptions } from '../models/session.js';

export const DECODER_INPUTS = ['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input', 'orig_im_size'];

export interface SamDecodeResult {
  /** Low-res logits of mask token 0, lowSize x lowSize. */
  lowRes: Float32Array;
  lowSize: number;
  /** Predicted IoU of mask token 0. */
  iou: number;
}

export class SamOnnx {
  private constructor(
    readonly encoderFile: string,
    readonly decoderFile: string,
    private readonly encoder: Session,
    private readonly decoder: Session,
    readonly imageSize: number,
    readonly embeddingDims: number[],
  ) {}

  static async open(encoderFile: string, decoderFile: string, opts: SessionOptions = {}): Promise<SamOnnx> {
    const o: SessionOptions = { enableCpuMemArena: false, ...opts };
    const [enc, dec] = await Promise.all([openSession(encoderFile, o), openSession(decoderFile, o)]);
    if (enc.inputNames.length !== 1 || enc.outputNames.length < 1) {
      throw new ModelError(`SAM encoder ${encoderFile} must have one input (image) and an image_embeddings output`, { file: encoderFile });
    }
    for (const n of DECODER_INPUTS) {
      if (!dec.inputNames.includes(n)) {
        throw new ModelError(`SAM decoder ${decoderFile} lacks input '${n}' (expected SAM's ONNX export: ${DECODER_INPUTS.join(', ')})`, { file: decoderFile });
      }
    }
    for (const n of ['low_res_masks', 'iou_predictions']) {
      if (!dec.outputNames.includes(n)) throw new ModelError(`SAM decoder ${decoderFile} lacks output '${n}'`, { file: decoderFile });
    }
    const meta = enc.inputMetadata[0];
    const shape = meta && meta.isTensor ? meta.shape : [];
    const side = typeof shape[2] === 'number' ? shape[2] : 1024;
    const emb = dec.inputMetadata.find((m) => m.name === 'image_embeddings');
    const embDims = emb && emb.isTensor && emb.shape.every((d) => typeof d === 'number') ? (emb.shape as number[]) : [1, 256, 64, 64];
    return new SamOnnx(encoderFile, decoderFile, enc, dec, side, embDims);
  }

  get embeddingLength(): number {
    return this.embeddingDims.reduce((a, b) => a * b, 1);
  }

  /** Runs the image encoder on a normalized [3,S,S] image. */
  async encode(input: Float32Array): Promise<Float32Array> {
    const S = this.imageSize;
    const feeds = { [this.encoder.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, S, S]) };
    const out = await runSession(this.encoder, this.encoderFile, feeds);
    const t = out[this.encoder.outputNames[0]!];
    if (!t || t.data.length !== this.embeddingLength) {
      throw new ModelError(`SAM encoder ${this.encoderFile} returned ${t?.dims.join('x') ?? 'nothing'}, expected ${this.embeddingDims.join('x')}`, { file: this.encoderFile });
    }
    return t.data as Float32Array;
  }

  /** Decodes one box [x0, y0, x1, y1] (encoder pixels) against an embedding; returns mask token 0. */
  async decodeBox(embedding: Float32Array, box: [number, number, number, number]): Promise<SamDecodeResult> {
    const S = this.imageSize;
    const feeds: Record<string, ort.Tensor> = {
      image_embeddings: new ort.Tensor('float32', embedding, this.embeddingDims),
      point_coords: new ort.Tensor('float32', Float32Array.from(box), [1, 2, 2]),
      point_labels: new ort.Tensor('float32', Float32Array.from([2, 3]), [1, 2]),
      mask_input: new ort.Tensor('float32', new Float32Array(256 * 256), [1, 1, 256, 256]),
      has_mask_input: new ort.Tensor('float32', Float32Array.from([0]), [1]),
      // [S, S]: the low-res path below does its own resize (quirk M8); this keeps `masks` cheap to ignore.
      orig_im_size: new ort.Tensor('float32', Float32Array.from([S, S]), [2]),
    };
    const out = await runSession(this.decoder, this.decoderFile, feeds, ['low_res_masks', 'iou_predictions']);
    const low = out.low_res_masks;
    const iou = out.iou_predictions;
    if (!low || !iou || low.dims.length !== 4) throw new ModelError(`SAM decoder ${this.decoderFile} returned no low_res_masks`, { file: this.decoderFile });
    const [, m, h, w] = low.dims as [number, number, number, number];
    if (m < 2) {
      throw new ModelError(
        `SAM decoder ${this.decoderFile} exposes ${m} mask: it was exported with return_single_mask=True, which picks a mask by predicted IoU; re-export with all masks (models/export/export_sam.py)`,
        { file: this.decoderFile },
      );
    }
    if (h !== w) throw new ModelError(`SAM decoder ${this.decoderFile} low_res_masks is ${h}x${w}, expected square`, { file: this.decoderFile });
    const data = low.data as Float32Array;
    return { lowRes: data.slice(0, h * w), lowSize: h, iou: (iou.data as Float32Array)[0]! };
  }
}
