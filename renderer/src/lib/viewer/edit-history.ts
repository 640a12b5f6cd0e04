/**
 * Undo / redo for the review screen's labelmap, independent of Cornerstone's history memo: after
 * each operation (a brush stroke ends, a polygon or an interpolation is applied) the labelmap is
 * compared with the last committed copy and the changed voxels with their old and new labels are
 * pushed; undo writes the old labels back, so it restores the labelmap exactly whichever tool made
 * the change. Pure data: no DOM, no Cornerstone, so it is unit-tested on its own.
 */

export interface Diff {
  at: Uint32Array;
  before: Uint8Array;
  after: Uint8Array;
}

/** Steps kept: 100 whole-volume diffs of a few changed voxels each stay far below a megabyte. */
const MAX_STEPS = 100;

export class EditHistory {
  private committed: Uint8Array = new Uint8Array(0);
  private undoStack: Diff[] = [];
  private redoStack: Diff[] = [];

  /** A new baseline (structures loaded): no undo across it. */
  reset(labels: Uint8Array): void {
    this.committed = labels;
    this.undoStack = [];
    this.redoStack = [];
  }

  /** Records `now` against the last commit as one step; false when nothing changed. */
  commit(now: Uint8Array): boolean {
    const at: number[] = [];
    for (let i = 0; i < now.length; i++) if (now[i] !== this.committed[i]) at.push(i);
    if (at.length === 0) return false;
    const idx = Uint32Array.from(at);
    this.undoStack.push({ at: idx, before: Uint8Array.from(idx, (i) => this.committed[i]!), after: Uint8Array.from(idx, (i) => now[i]!) });
    if (this.undoStack.length > MAX_STEPS) this.undoStack.shift();
    this.redoStack = [];
    this.committed = now;
    return true;
  }

  /** The step to undo, with the labels to write (`labels` changed in place), or undefined. */
  undo(labels: Uint8Array): Uint8Array | undefined {
    const d = this.undoStack.pop();
    if (!d) return undefined;
    this.redoStack.push(d);
    return this.apply(d, d.before, labels);
  }

  redo(labels: Uint8Array): Uint8Array | undefined {
    const d = this.redoStack.pop();
    if (!d) return undefined;
    this.undoStack.push(d);
    return this.apply(d, d.after, labels);
  }

  private apply(d: Diff, values: Uint8Array, labels: Uint8Array): Uint8Array {
    d.at.forEach((i, n) => (labels[i] = values[n]!));
    this.committed = labels;
    return labels;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Edit steps since the last baseline (the screen's "unsaved" state). */
  get steps(): number {
    return this.undoStack.length;
  }
}
