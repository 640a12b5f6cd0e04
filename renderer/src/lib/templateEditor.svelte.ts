/**
 * The six-point editor's state. Guided: each click fills the selected slot (most right, left,
 * anterior, posterior, inferior, superior) and moves to the next empty one. Free: clicks are
 * collected in any order and, once there are six, assigned to slots by axis (extreme-order.ts, the
 * same rule the engine applies when it stores them).
 */
import type { Vec3 } from '../../../electron/api.js';
import { EXTREME_SLOTS, assignExtremePoints, inconsistentSlots, type ExtremeSlot } from '../../../electron/engine/store/extreme-order.js';

export { EXTREME_SLOTS, type ExtremeSlot };
export const SLOT_LABEL: Record<ExtremeSlot, string> = { right: 'R', left: 'L', anterior: 'A', posterior: 'P', inferior: 'I', superior: 'S' };

export class TemplateEditor {
  points = $state<(Vec3 | null)[]>([null, null, null, null, null, null]);
  guided = $state(true);
  selected = $state(0);
  /** Free-mode clicks not yet assigned. */
  pending = $state<Vec3[]>([]);

  get complete(): boolean {
    return this.points.every((p) => p !== null);
  }

  get warnings(): ExtremeSlot[] {
    return this.complete ? inconsistentSlots(this.points as Vec3[]) : [];
  }

  reset(points?: Vec3[]): void {
    this.points = points && points.length === 6 ? points.map((p) => [...p] as Vec3) : [null, null, null, null, null, null];
    this.pending = [];
    this.selected = this.points.findIndex((p) => p === null);
    if (this.selected < 0) this.selected = 0;
  }

  /** A click in a view at `lps`. */
  place(lps: Vec3): void {
    // Free clicks only start a new set of six; once slots hold points (a deleted point, a loaded
    // member), a click refills the selected empty slot as in guided mode.
    const editing = this.pending.length === 0 && this.points.some((p) => p !== null);
    if (this.guided || editing) {
      const next = [...this.points];
      next[this.selected] = lps;
      this.points = next;
      const empty = next.findIndex((p) => p === null);
      this.selected = empty >= 0 ? empty : this.selected;
      return;
    }
    const clicks = [...this.pending, lps];
    if (clicks.length < 6) {
      this.pending = clicks;
      return;
    }
    this.points = assignExtremePoints(clicks.slice(0, 6));
    this.pending = [];
  }

  move(slot: number, lps: Vec3): void {
    const next = [...this.points];
    next[slot] = lps;
    this.points = next;
  }

  remove(slot: number): void {
    const next = [...this.points];
    next[slot] = null;
    this.points = next;
    this.selected = slot;
  }

  /** Every point that should be drawn: slot points and pending free clicks. */
  get drawn(): { key: string; label: string; p: Vec3; slot: number | null }[] {
    const out: { key: string; label: string; p: Vec3; slot: number | null }[] = [];
    this.points.forEach((p, i) => {
      if (p) out.push({ key: `s${i}`, label: SLOT_LABEL[EXTREME_SLOTS[i]!], p, slot: i });
    });
    this.pending.forEach((p, i) => out.push({ key: `f${i}`, label: String(i + 1), p, slot: null }));
    return out;
  }
}
