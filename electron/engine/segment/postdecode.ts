/**
 * From the decoder's low-resolution logits to a binary slice mask, the reference's way (MedLSAM
 * `finetune_model_predict` + `cv2.resize(INTER_NEAREST)`; parity README quirk M8):
 * sigmoid(low_res 256x256) -> bilinear (align_corners=False) to SxS -> nearest to rows x cols
 * (pixel [floor(r*S/rows), floor(c*S/cols)]) -> > 0.5.
 *
 * Only the S x S pixels that the nearest resize picks are evaluated, in float32 like torch. Using the
 * ONNX `masks` output with orig_im_size = the slice size would sample each block at its centre
 * instead (a ~0.44 voxel shift), so it is not used.
 */

/** Indices into the SxS image that cv2's INTER_NEAREST reads for each of n output pixels. */
function nearestSources(n: number, S: number): Int32Array {
  const out = new Int32Array(n);
  const inv = S / n;
  for (let o = 0; o < n; o++) out[o] = Math.min(S - 1, Math.floor(o * inv));
  return out;
}

interface BilinearTap {
  i0: number;
  i1: number;
  l0: number;
  l1: number;
}

/** torch upsample_bilinear2d (align_corners=False) source taps of output index d, float32 maths. */
function bilinearTap(d: number, inSize: number, outSize: number): BilinearTap {
  const scale = Math.fround(inSize / outSize);
  let src = Math.fround(Math.fround(scale * Math.fround(d + 0.5)) - 0.5);
  if (src < 0) src = 0;
  const i0 = Math.trunc(src);
  const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
  const l1 = Math.fround(src - i0);
  const l0 = Math.fround(1 - l1);
  return { i0, i1, l0, l1 };
}

function sigmoid32(x: number): number {
  return Math.fround(1 / (1 + Math.exp(-x)));
}

/**
 * The slice mask (rows x cols, row-major) from low-res logits (lowSize x lowSize) of mask token 0.
 * Returns the number of foreground pixels written into `out` (which must be zeroed by the caller
 * or hold an earlier box's mask to OR with).
 */
export function maskFromLowRes(
  lowRes: Float32Array,
  lowSize: number,
  S: number,
  rows: number,
  cols: number,
  out: Uint8Array,
  outOffset = 0,
): number {
  const sr = nearestSources(rows, S);
  const sc = nearestSources(cols, S);
  const tr = Array.from(sr, (d) => bilinearTap(d, lowSize, S));
  const tc = Array.from(sc, (d) => bilinearTap(d, lowSize, S));
  const prob = (y: number, x: number): number => sigmoid32(lowRes[y * lowSize + x]!);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const a = tr[r]!;
    for (let c = 0; c < cols; c++) {
      const b = tc[c]!;
      const top = Math.fround(Math.fround(b.l0 * prob(a.i0, b.i0)) + Math.fround(b.l1 * prob(a.i0, b.i1)));
      const bot = Math.fround(Math.fround(b.l0 * prob(a.i1, b.i0)) + Math.fround(b.l1 * prob(a.i1, b.i1)));
      const v = Math.fround(Math.fround(a.l0 * top) + Math.fround(a.l1 * bot));
      if (v > 0.5) {
        out[outOffset + r * cols + c] = 1;
        n++;
      }
    }
  }
  return n;
}
