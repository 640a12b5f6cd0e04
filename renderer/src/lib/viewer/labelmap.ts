/**
 * The review screen's structures as one Cornerstone3D labelmap over the MPR volume (segment index
 * n+1 for the n-th structure), drawn as continuous outlines (or fills) in all three views, and the
 * editing tools on it: Cornerstone's BrushTool with the circle fill, erase and threshold strategies
 * (brushSize is a radius in mm), polygon fill / erase on the shown slice, undo / redo, interpolation
 * between edited slices (engine/review/interpolate.ts), per-structure visibility and opacity, and
 * zoom to a structure.
 *
 * One labelmap holds one label per voxel: where two structures overlap, the one loaded later shows.
 * The structure being edited is loaded last (load order), so its own voxels are all present and the
 * saved mask is exactly (label == its index).
 *
 * Undo / redo are ours (edit-history.ts), not Cornerstone's history memo, so they restore the
 * labelmap exactly whichever tool made the change; grid geometry lives in geometry.ts.
 */
import { eventTarget, volumeLoader, type Types } from '@cornerstonejs/core';
import {
  BrushTool,
  Enums as ToolEnums,
  ToolGroupManager,
  addTool,
  segmentation,
  utilities as toolUtils,
} from '@cornerstonejs/tools';
import type { Vec3 } from '../../../../electron/api.js';
import { interpolateGaps } from '../../../../electron/engine/review/interpolate.js';
import { EditHistory } from './edit-history.js';
import { insidePolygon, labelExtent, sliceAxis, voxelCentre } from './geometry.js';
import { TOOL_GROUP_ID, VIEWS, type MprViewer, type ViewName } from './mpr.js';

export type EditTool = 'none' | 'brush' | 'eraser' | 'threshold' | 'polygon-fill' | 'polygon-erase';

/** Brush instances of one BrushTool class (Cornerstone's tool-instance mechanism). */
const BRUSH: Record<'brush' | 'eraser' | 'threshold', { name: string; strategy: string }> = {
  brush: { name: 'DelineateBrush', strategy: 'FILL_INSIDE_CIRCLE' },
  eraser: { name: 'DelineateEraser', strategy: 'ERASE_INSIDE_CIRCLE' },
  threshold: { name: 'DelineateThresholdBrush', strategy: 'THRESHOLD_INSIDE_CIRCLE' },
};

export interface LayerStructure {
  name: string;
  color: string;
  index: number;
  visible: boolean;
  opacity: number;
}

let layers = 0;

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export class LabelmapLayer {
  readonly segmentationId = `delineate-labelmap-${++layers}`;
  private labelVolume: Types.IImageVolume | undefined;
  private readonly history = new EditHistory();
  private pendingCommit: number | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly offs: (() => void)[] = [];
  structures: LayerStructure[] = [];
  tool: EditTool = 'none';
  active = 0;

  constructor(private readonly viewer: MprViewer) {}

  /** Creates the labelmap volume (derived from the CT's grid) and shows it in the three views. */
  create(): void {
    const volumeId = this.viewer.volumeId;
    if (!volumeId) throw new Error('the volume is not loaded yet');
    const labelId = `${this.segmentationId}-volume`;
    this.labelVolume = volumeLoader.createAndCacheDerivedLabelmapVolume(volumeId, { volumeId: labelId });
    segmentation.addSegmentations([
      { segmentationId: this.segmentationId, representation: { type: ToolEnums.SegmentationRepresentations.Labelmap, data: { volumeId: labelId } } },
    ]);
    const map: Record<string, { segmentationId: string }[]> = {};
    for (const v of VIEWS) map[this.viewer.viewportId(v)] = [{ segmentationId: this.segmentationId }];
    segmentation.addLabelmapRepresentationToViewportMap(map);
    this.setStyle(true, false);
    addTool(BrushTool);
    const group = ToolGroupManager.getToolGroup(TOOL_GROUP_ID);
    if (group) {
      for (const b of Object.values(BRUSH)) {
        if (!group.hasTool(b.name)) group.addToolInstance(b.name, BrushTool.toolName, { activeStrategy: b.strategy, preview: { enabled: false } });
      }
    }
    this.history.reset(this.labels());
    // A brush stroke modifies the labelmap while the button is down; commit once it is quiet.
    const onModified = (e: Event): void => {
      const id = (e as CustomEvent<{ segmentationId: string }>).detail?.segmentationId;
      if (id !== this.segmentationId) return;
      window.clearTimeout(this.pendingCommit);
      this.pendingCommit = window.setTimeout(() => this.commit(), 150);
    };
    eventTarget.addEventListener(ToolEnums.Events.SEGMENTATION_DATA_MODIFIED, onModified);
    this.offs.push(() => eventTarget.removeEventListener(ToolEnums.Events.SEGMENTATION_DATA_MODIFIED, onModified));
  }

  private get dims(): Vec3 {
    return [...this.viewer.handle!.dims] as Vec3;
  }

  /** The labelmap's labels (a copy), i fastest, then j, then k: the engine's grid order. */
  labels(): Uint8Array {
    const vm = this.labelVolume!.voxelManager as unknown as { getCompleteScalarDataArray(): ArrayLike<number> };
    return Uint8Array.from(vm.getCompleteScalarDataArray());
  }

  private write(labels: Uint8Array): void {
    const vm = this.labelVolume!.voxelManager as unknown as { setCompleteScalarDataArray(d: ArrayLike<number>): void };
    vm.setCompleteScalarDataArray(labels);
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(this.segmentationId);
    this.viewer.render();
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private notify(): void {
    this.listeners.forEach((l) => l());
  }

  /** Adds (or replaces) a structure's voxels under its own segment index; returns the index. */
  load(name: string, color: string, mask: Uint8Array | undefined): number {
    let s = this.structures.find((x) => x.name === name);
    if (!s) {
      s = { name, color, index: this.structures.length + 1, visible: true, opacity: 1 };
      this.structures.push(s);
      for (const v of VIEWS) segmentation.config.color.setSegmentIndexColor(this.viewer.viewportId(v), this.segmentationId, s.index, [...rgb(color), 255] as Types.Color);
    }
    const labels = this.labels();
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === s.index) labels[i] = 0;
      if (mask?.[i]) labels[i] = s.index;
    }
    this.write(labels);
    // Loading is not an edit: it is the new baseline, with no undo across it.
    this.history.reset(labels);
    this.notify();
    return s.index;
  }

  /** The mask of one structure (0/1 on the grid). */
  maskOf(name: string): Uint8Array {
    const s = this.structures.find((x) => x.name === name);
    const labels = this.labels();
    const out = new Uint8Array(labels.length);
    if (s) for (let i = 0; i < labels.length; i++) out[i] = labels[i] === s.index ? 1 : 0;
    return out;
  }

  setActive(name: string): void {
    const s = this.structures.find((x) => x.name === name);
    if (!s) throw new Error(`structure ${name} is not loaded`);
    this.active = s.index;
    segmentation.segmentIndex.setActiveSegmentIndex(this.segmentationId, s.index);
    for (const v of VIEWS) segmentation.activeSegmentation.setActiveSegmentation(this.viewer.viewportId(v), this.segmentationId);
    this.notify();
  }

  /** Chooses the primary-button tool; 'none' gives the button back to navigation. */
  setTool(tool: EditTool): void {
    const group = ToolGroupManager.getToolGroup(TOOL_GROUP_ID);
    if (!group) return;
    for (const b of Object.values(BRUSH)) group.setToolDisabled(b.name);
    this.tool = tool;
    this.viewer.setMode(tool === 'none' ? 'navigate' : 'edit');
    if (tool === 'brush' || tool === 'eraser' || tool === 'threshold') {
      group.setToolActive(BRUSH[tool].name, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Primary }] });
    }
    this.notify();
  }

  /** Brush radius in mm (Cornerstone's brushSize is the circle's radius in world units). */
  setBrushRadius(mm: number): void {
    for (const b of Object.values(BRUSH)) toolUtils.segmentation.setBrushSizeForToolGroup(TOOL_GROUP_ID, mm, b.name);
  }

  /** The threshold brush paints only voxels whose HU lies in [lo, hi]. */
  setThreshold(lo: number, hi: number): void {
    const group = ToolGroupManager.getToolGroup(TOOL_GROUP_ID);
    const tool = group?.getToolInstance(BRUSH.threshold.name) as { configuration: Record<string, unknown> } | undefined;
    if (tool) tool.configuration.threshold = { range: [lo, hi], isDynamic: false, dynamicRadius: 0 };
  }

  setStyle(outline: boolean, fill: boolean): void {
    segmentation.config.style.setStyle(
      { type: ToolEnums.SegmentationRepresentations.Labelmap },
      { renderOutline: outline, outlineWidth: 2, renderFill: fill, fillAlpha: fill ? 0.35 : 0, renderOutlineInactive: outline, renderFillInactive: fill, fillAlphaInactive: fill ? 0.25 : 0, outlineWidthInactive: 2 },
    );
    this.viewer.render();
  }

  setVisible(name: string, visible: boolean): void {
    const s = this.structures.find((x) => x.name === name);
    if (!s) return;
    s.visible = visible;
    for (const v of VIEWS) {
      segmentation.config.visibility.setSegmentIndexVisibility(this.viewer.viewportId(v), { segmentationId: this.segmentationId, type: ToolEnums.SegmentationRepresentations.Labelmap }, s.index, visible);
    }
    this.viewer.render();
    this.notify();
  }

  /** Opacity 0..1 of a structure's outline and fill (the alpha of its colour). */
  setOpacity(name: string, opacity: number): void {
    const s = this.structures.find((x) => x.name === name);
    if (!s) return;
    s.opacity = opacity;
    for (const v of VIEWS) segmentation.config.color.setSegmentIndexColor(this.viewer.viewportId(v), this.segmentationId, s.index, [...rgb(s.color), Math.round(255 * opacity)] as Types.Color);
    this.viewer.render();
    this.notify();
  }

  /** Records the change since the last commit as one undo step (no-op when nothing changed). */
  commit(): boolean {
    window.clearTimeout(this.pendingCommit);
    const changed = this.history.commit(this.labels());
    if (changed) this.notify();
    return changed;
  }

  get canUndo(): boolean {
    return this.history.canUndo;
  }

  get canRedo(): boolean {
    return this.history.canRedo;
  }

  /** Edit steps since the structures were loaded (the screen's "unsaved" state). */
  get steps(): number {
    return this.history.steps;
  }

  undo(): void {
    this.commit();
    const labels = this.history.undo(this.labels());
    if (!labels) return;
    this.write(labels);
    this.notify();
  }

  redo(): void {
    const labels = this.history.redo(this.labels());
    if (!labels) return;
    this.write(labels);
    this.notify();
  }

  /** The grid axis most parallel to a view's normal, and the shown slice's index. */
  private sliceAxis(view: ViewName): { axis: 0 | 1 | 2; index: number } {
    const cam = this.viewer.viewport(view)!.getCamera();
    return sliceAxis(this.viewer.handle!, cam.viewPlaneNormal as Vec3, cam.focalPoint as Vec3);
  }

  private world(i: number, j: number, k: number): Vec3 {
    return voxelCentre(this.viewer.handle!, i, j, k);
  }

  /**
   * Fills (or erases) the active structure inside a polygon drawn on a view (canvas CSS pixels), on
   * the shown slice: every voxel whose centre projects inside the polygon (even-odd rule). Erasing
   * clears only the active structure's voxels.
   */
  polygon(view: ViewName, poly: [number, number][], erase: boolean): number {
    if (poly.length < 3 || this.active === 0) return 0;
    const { axis, index } = this.sliceAxis(view);
    const dims = this.dims;
    const [u, v] = axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
    const labels = this.labels();
    let changed = 0;
    const ijk: Vec3 = [0, 0, 0];
    ijk[axis] = index;
    for (let b = 0; b < dims[v]!; b++) {
      for (let a = 0; a < dims[u]!; a++) {
        ijk[u] = a;
        ijk[v] = b;
        const xy = this.viewer.worldToCanvas(view, this.world(ijk[0], ijk[1], ijk[2]));
        if (!xy || !insidePolygon(poly, xy[0], xy[1])) continue;
        const i = ijk[0] + dims[0] * (ijk[1] + dims[1] * ijk[2]);
        if (erase) {
          if (labels[i] === this.active) { labels[i] = 0; changed++; }
        } else if (labels[i] !== this.active) {
          labels[i] = this.active;
          changed++;
        }
      }
    }
    if (changed > 0) {
      this.write(labels);
      this.commit();
    }
    return changed;
  }

  /** Fills the active structure's empty slices between non-empty ones, across the view's slices. */
  interpolate(view: ViewName): number[] {
    if (this.active === 0) return [];
    this.commit();
    const { axis } = this.sliceAxis(view);
    const labels = this.labels();
    const mask = Uint8Array.from(labels, (x) => (x === this.active ? 1 : 0));
    const { mask: filled, filled: slices } = interpolateGaps(mask, this.dims, [...this.viewer.handle!.spacing] as Vec3, axis);
    if (slices.length === 0) return [];
    for (let i = 0; i < labels.length; i++) if (filled[i] && labels[i] === 0) labels[i] = this.active;
    this.write(labels);
    this.commit();
    return slices;
  }

  /** Centres every view on a structure and zooms so its extent fills about two thirds of the view. */
  zoomTo(name: string): void {
    const s = this.structures.find((x) => x.name === name);
    if (!s) return;
    const ext = labelExtent(this.labels(), this.dims, s.index);
    if (!ext) return;
    const { lo, hi } = ext;
    // The middle voxel (rounded), so every view lands on a slice rather than between two.
    const c = this.world(Math.round((lo[0] + hi[0]) / 2), Math.round((lo[1] + hi[1]) / 2), Math.round((lo[2] + hi[2]) / 2));
    const sp = this.viewer.handle!.spacing;
    const extent = Math.max(...[0, 1, 2].map((a) => (hi[a]! - lo[a]! + 1) * sp[a]!));
    this.viewer.jumpTo(c);
    for (const v of VIEWS) {
      const vp = this.viewer.viewport(v);
      const cam = vp?.getCamera();
      if (!vp || !cam?.focalPoint || !cam.position) continue;
      const f = cam.focalPoint as Vec3;
      const move = [c[0] - f[0], c[1] - f[1], c[2] - f[2]];
      // Centre in-plane too: shift focal point and position by the in-plane part of the offset.
      const n = cam.viewPlaneNormal as Vec3;
      const dn = move[0]! * n[0] + move[1]! * n[1] + move[2]! * n[2];
      const inPlane = [move[0]! - dn * n[0], move[1]! - dn * n[1], move[2]! - dn * n[2]];
      const shift = (q: Types.Point3): Types.Point3 => [q[0] + inPlane[0]!, q[1] + inPlane[1]!, q[2] + inPlane[2]!];
      vp.setCamera({ focalPoint: shift(cam.focalPoint), position: shift(cam.position), parallelScale: Math.max(extent * 0.75, 10) });
    }
    this.viewer.render();
  }

  destroy(): void {
    window.clearTimeout(this.pendingCommit);
    this.offs.forEach((o) => o());
    const group = ToolGroupManager.getToolGroup(TOOL_GROUP_ID);
    if (group) for (const b of Object.values(BRUSH)) group.setToolDisabled(b.name);
    if (segmentation.state.getSegmentation(this.segmentationId)) segmentation.removeSegmentation(this.segmentationId);
  }
}

