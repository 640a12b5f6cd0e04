/**
 * The order of a template's six extreme points, and the rule that assigns free clicks to it. Pure
 * (no Node imports) so the renderer uses the same code as the engine.
 *
 * Stored order, patient axes (LPS, PS3.3 C.7.6.2.1.1):
 *   0 right (min x), 1 left (max x), 2 anterior (min y), 3 posterior (max y), 4 inferior (min z), 5 superior (max z).
 * DESIGN.md defines the points per volume axis; for the axial CT this product imports, volume axes are
 * the patient axes up to sign, so the patient-axis order names the same six points independently of
 * how a scanner flipped its rows or slices.
 */
import { InputError, type ErrorContext } from '../errors.js';

type Vec3 = [number, number, number];

export const EXTREME_SLOTS = ['right', 'left', 'anterior', 'posterior', 'inferior', 'superior'] as const;
export type ExtremeSlot = (typeof EXTREME_SLOTS)[number];

/** Axis (0 x, 1 y, 2 z) and bound of each slot. */
export const SLOT_AXIS: Record<ExtremeSlot, { axis: 0 | 1 | 2; bound: 'min' | 'max' }> = {
  right: { axis: 0, bound: 'min' },
  left: { axis: 0, bound: 'max' },
  anterior: { axis: 1, bound: 'min' },
  posterior: { axis: 1, bound: 'max' },
  inferior: { axis: 2, bound: 'min' },
  superior: { axis: 2, bound: 'max' },
};

/** Throws unless `points` is six finite [x, y, z] triples. */
export function validateSixPoints(points: unknown, context: ErrorContext = {}): Vec3[] {
  if (!Array.isArray(points) || points.length !== 6) {
    throw new InputError(`a template needs exactly six extreme points, got ${Array.isArray(points) ? points.length : typeof points}`, context);
  }
  return points.map((p, i) => {
    if (!Array.isArray(p) || p.length !== 3 || p.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw new InputError(`extreme point ${i + 1} is not three finite numbers (LPS mm)`, context);
    }
    return [p[0], p[1], p[2]] as Vec3;
  });
}

const PERMUTATIONS: number[][] = (() => {
  const out: number[][] = [];
  const go = (prefix: number[], rest: number[]): void => {
    if (rest.length === 0) out.push(prefix);
    rest.forEach((r, i) => go([...prefix, r], [...rest.slice(0, i), ...rest.slice(i + 1)]));
  };
  go([], [0, 1, 2, 3, 4, 5]);
  return out;
})();

/**
 * Assigns six free clicks to the six slots. Each axis gets the pair of points whose separation along
 * that axis, relative to the clicks' spread on it, is largest; the lower of the pair is the min slot.
 * Every assignment of pairs to axes is tried (90 distinct) and the best total kept, so a click that is
 * extreme on two axes goes where it matters most. Ties keep the click order.
 */
export function assignExtremePoints(points: readonly Vec3[]): Vec3[] {
  const pts = validateSixPoints(points);
  const spread = [0, 1, 2].map((a) => {
    const v = pts.map((p) => p[a]!);
    return Math.max(...v) - Math.min(...v) || 1;
  });
  let best: number[] = PERMUTATIONS[0]!;
  let bestScore = -Infinity;
  for (const perm of PERMUTATIONS) {
    let score = 0;
    for (let a = 0; a < 3; a++) {
      const p = pts[perm[2 * a]!]!;
      const q = pts[perm[2 * a + 1]!]!;
      score += Math.abs(q[a]! - p[a]!) / spread[a]!;
    }
    if (score > bestScore + 1e-9) {
      bestScore = score;
      best = perm;
    }
  }
  const out: Vec3[] = [];
  for (let a = 0; a < 3; a++) {
    const p = pts[best[2 * a]!]!;
    const q = pts[best[2 * a + 1]!]!;
    if (p[a]! <= q[a]!) out.push(p, q);
    else out.push(q, p);
  }
  return out;
}

/** Slots whose point is not the extreme along its axis among the six (for a warning in the UI). */
export function inconsistentSlots(points: readonly Vec3[]): ExtremeSlot[] {
  const pts = validateSixPoints(points);
  const bad: ExtremeSlot[] = [];
  EXTREME_SLOTS.forEach((slot, i) => {
    const { axis, bound } = SLOT_AXIS[slot];
    const v = pts[i]![axis];
    const others = pts.map((p) => p[axis]);
    if (bound === 'min' ? v > Math.min(...others) + 1e-6 : v < Math.max(...others) - 1e-6) bad.push(slot);
  });
  return bad;
}
