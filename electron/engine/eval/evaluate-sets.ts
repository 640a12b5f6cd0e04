/**
 * Evaluates a predicted structure set against a reference one on a common grid, structure by
 * structure. Structures pair up by name: exactly first, then ignoring case, spaces, '-' and '_'
 * ("Parotid_L" pairs with "parotid l"), then through the TG-263 names templates and exports use
 * ("LeftParotid" from a research label map pairs with the stored "Parotid_L"). Structures present on one side only are listed, not scored:
 * a reference organ nobody asked the product to find is not a miss.
 */
import { InputError } from '../errors.js';
import { evaluateStructure, type EvaluateOptions, type StructureMetrics } from '../metrics/evaluate.js';
import type { Geometry } from '../volume/geometry.js';
import type { EvalStructure, StructureSource } from './sources.js';
import { exportNames } from '../rtstruct/names.js';

export interface EvalReport {
  structures: StructureMetrics[];
  unmatched: { reference: string[]; prediction: string[] };
}

export interface EvaluateSetsOptions extends EvaluateOptions {
  /** Score only these structures (reference names). */
  only?: string[];
}

export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

/** The TG-263 form a name is stored and exported under (rtstruct/names.ts), normalised. */
function tg263Key(name: string): string {
  return normaliseName(exportNames([name]).names[0] ?? name);
}

export function pairStructures(reference: EvalStructure[], prediction: EvalStructure[]): { pairs: [EvalStructure, EvalStructure][]; unmatched: EvalReport['unmatched'] } {
  const left = new Set(prediction);
  const pairs: [EvalStructure, EvalStructure][] = [];
  const unmatchedRef: string[] = [];
  for (const r of reference) {
    let p = [...left].find((x) => x.name === r.name);
    p ??= [...left].find((x) => normaliseName(x.name) === normaliseName(r.name));
    p ??= [...left].find((x) => tg263Key(x.name) === tg263Key(r.name));
    if (p) {
      pairs.push([r, p]);
      left.delete(p);
    } else unmatchedRef.push(r.name);
  }
  return { pairs, unmatched: { reference: unmatchedRef, prediction: [...left].map((p) => p.name) } };
}

export function evaluateSets(reference: StructureSource, prediction: StructureSource, grid: Geometry, opts: EvaluateSetsOptions = {}): EvalReport {
  let refs = reference.structures;
  if (opts.only && opts.only.length > 0) {
    const wanted = new Set(opts.only.map(normaliseName));
    refs = refs.filter((r) => wanted.has(normaliseName(r.name)));
    const missing = opts.only.filter((o) => !reference.structures.some((r) => normaliseName(r.name) === normaliseName(o)));
    if (missing.length > 0) throw new InputError(`reference ${reference.source} has no structure ${missing.join(', ')}`, { file: reference.source });
  }
  const { pairs, unmatched } = pairStructures(refs, prediction.structures);
  if (pairs.length === 0) {
    throw new InputError(
      `no structure name is shared by the reference (${reference.structures.map((s) => s.name).join(', ') || 'none'}) and the prediction (${prediction.structures.map((s) => s.name).join(', ') || 'none'})`,
      { file: reference.source },
    );
  }
  // Masks are built one pair at a time and dropped after scoring (see EvalStructure.loadMask).
  const structures = pairs.map(([r, p]) => {
    const refMask = r.mask ?? r.loadMask?.();
    if (!refMask) throw new InputError(`reference structure ${r.name} of ${reference.source} has no mask`, { structure: r.name });
    const predMask = p.mask ?? p.loadMask?.();
    return evaluateStructure(r.name, refMask, { ...(predMask ? { mask: predMask } : {}), ...(p.boxes ? { boxes: p.boxes } : {}) }, grid, opts);
  });
  return { structures, unmatched };
}
