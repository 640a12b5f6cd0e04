/**
 * Axial, sagittal and coronal MPR over one volume with Cornerstone3D 5.14. The volume comes from the
 * engine as voxels + geometry (createLocalVolume); the renderer never parses DICOM. Tools: crosshairs
 * on the primary button (navigate mode), pan on the middle, zoom on the right, slice scroll on the
 * wheel. In 'points' mode the primary button is ours (template clicks), crosshairs stay visible.
 */
import {
  Enums,
  RenderingEngine,
  cache,
  init as coreInit,
  setVolumesForViewports,
  volumeLoader,
  type Types,
} from '@cornerstonejs/core';
import {
  CrosshairsTool,
  Enums as ToolEnums,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  ZoomTool,
  addTool,
  init as toolsInit,
} from '@cornerstonejs/tools';
import type { Vec3, VolumeHandle } from '../../../../electron/api.js';
import { cornerstoneDirection, dot, sampleNearest, sub } from './geometry.js';
import { voiRange, WL_PRESETS, type PresetName } from './presets.js';

export const VIEWS = ['axial', 'sagittal', 'coronal'] as const;
export type ViewName = (typeof VIEWS)[number];
/** navigate: crosshairs on the primary button; points: template clicks; edit: a labelmap tool (labelmap.ts) or polygon clicks. */
export type Mode = 'navigate' | 'points' | 'edit';

const ORIENTATION: Record<ViewName, Enums.OrientationAxis> = {
  axial: Enums.OrientationAxis.AXIAL,
  sagittal: Enums.OrientationAxis.SAGITTAL,
  coronal: Enums.OrientationAxis.CORONAL,
};

const TOOL_GROUP = 'delineate-mpr';
let initialized = false;

function ensureInit(): void {
  if (initialized) return;
  coreInit();
  toolsInit();
  for (const t of [CrosshairsTool, PanTool, ZoomTool, StackScrollTool]) addTool(t);
  initialized = true;
}

const nextFrame = (): Promise<void> => new Promise((r) => requestAnimationFrame(() => r()));

export interface CursorInfo {
  view: ViewName;
  lps: Vec3;
  value: number | undefined;
}

export type Voxels = Int16Array | Float32Array | Uint8Array;

/**
 * Volume ids are unique for the page's lifetime, not per viewer: Cornerstone keeps a local volume's
 * slice images cached after the volume is removed, so a second viewer of the same series (reopened,
 * or the review screen) with a per-instance counter would fail with "imageId already in cache".
 */
let volumeLoads = 0;

export const TOOL_GROUP_ID = TOOL_GROUP;

export class MprViewer {
  private engine: RenderingEngine | undefined;
  /** The CT volume's cache id (the labelmap is derived from it). */
  volumeId: string | undefined;
  private listeners = new Set<() => void>();
  private cursorListeners = new Set<(c: CursorInfo) => void>();
  private clickListeners = new Set<(view: ViewName, lps: Vec3) => void>();
  private mode: Mode = 'navigate';
  private cleanup: (() => void)[] = [];
  handle: VolumeHandle | undefined;
  voxels: Voxels | undefined;

  constructor(private readonly elements: Record<ViewName, HTMLDivElement>) {}

  private ids(): string[] {
    return VIEWS.map((v) => `mpr-${v}`);
  }

  viewportId(view: ViewName): string {
    return `mpr-${view}`;
  }

  viewport(view: ViewName): Types.IVolumeViewport | undefined {
    return this.engine?.getViewport(`mpr-${view}`) as Types.IVolumeViewport | undefined;
  }

  private setup(): RenderingEngine {
    ensureInit();
    const engine = new RenderingEngine(`delineate-${Date.now()}`);
    engine.setViewports(
      VIEWS.map((v) => ({
        viewportId: `mpr-${v}`,
        type: Enums.ViewportType.ORTHOGRAPHIC,
        element: this.elements[v],
        defaultOptions: { orientation: ORIENTATION[v], background: [0, 0, 0] as Types.Point3 },
      })),
    );
    ToolGroupManager.destroyToolGroup(TOOL_GROUP);
    const group = ToolGroupManager.createToolGroup(TOOL_GROUP)!;
    for (const t of [CrosshairsTool, PanTool, ZoomTool, StackScrollTool]) group.addTool(t.toolName);
    for (const id of this.ids()) group.addViewport(id, engine.id);
    group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }] });
    group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Secondary }] });
    group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Wheel }] });
    this.applyMode();

    for (const view of VIEWS) {
      const el = this.elements[view];
      el.oncontextmenu = (e) => e.preventDefault();
      const notify = (): void => this.listeners.forEach((l) => l());
      el.addEventListener(Enums.Events.CAMERA_MODIFIED, notify);
      el.addEventListener(Enums.Events.IMAGE_RENDERED, notify);
      const move = (e: PointerEvent): void => {
        const lps = this.eventToWorld(view, e);
        if (!lps || !this.handle || !this.voxels) return;
        const c: CursorInfo = { view, lps, value: sampleNearest(this.handle, this.voxels, lps) };
        this.cursorListeners.forEach((l) => l(c));
      };
      let down: { x: number; y: number } | undefined;
      const pdown = (e: PointerEvent): void => {
        down = e.button === 0 ? { x: e.clientX, y: e.clientY } : undefined;
      };
      const pup = (e: PointerEvent): void => {
        if (this.mode === 'navigate' || !down || e.button !== 0) return;
        const moved = Math.hypot(e.clientX - down.x, e.clientY - down.y);
        down = undefined;
        if (moved > 4) return;
        const lps = this.eventToWorld(view, e);
        if (lps) this.clickListeners.forEach((l) => l(view, lps));
      };
      el.addEventListener('pointermove', move);
      el.addEventListener('pointerdown', pdown);
      el.addEventListener('pointerup', pup);
      this.cleanup.push(() => {
        el.removeEventListener(Enums.Events.CAMERA_MODIFIED, notify);
        el.removeEventListener(Enums.Events.IMAGE_RENDERED, notify);
        el.removeEventListener('pointermove', move);
        el.removeEventListener('pointerdown', pdown);
        el.removeEventListener('pointerup', pup);
      });
    }
    return engine;
  }

  private applyMode(): void {
    const group = ToolGroupManager.getToolGroup(TOOL_GROUP);
    if (!group) return;
    if (this.mode === 'navigate') group.setToolActive(CrosshairsTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Primary }] });
    else group.setToolEnabled(CrosshairsTool.toolName);
  }

  setMode(mode: Mode): void {
    this.mode = mode;
    this.applyMode();
  }

  /** Creates the rendering engine, viewports and tools; call early so it overlaps the volume fetch. */
  prepare(): void {
    this.engine ??= this.setup();
  }

  /** Shows a volume; resolves once the three views have rendered real pixels. */
  async load(handle: VolumeHandle, voxels: Voxels): Promise<void> {
    const engine = (this.engine ??= this.setup());
    performance.mark('delineate:mpr-setup');
    const previous = this.volumeId;
    // No ':' in the id: Cornerstone reads the text before ':' in the slice imageIds as an image-loader
    // scheme and, finding none registered, fails while computing a default VOI from the middle slice.
    const volumeId = `delineateLocal_${handle.seriesUid}_${++volumeLoads}`;
    const dir = cornerstoneDirection(handle.direction);
    volumeLoader.createLocalVolume(volumeId, {
      metadata: {
        BitsAllocated: handle.dtype === 'uint8' ? 8 : handle.dtype === 'int16' ? 16 : 32,
        BitsStored: handle.dtype === 'uint8' ? 8 : handle.dtype === 'int16' ? 16 : 32,
        SamplesPerPixel: 1,
        HighBit: handle.dtype === 'uint8' ? 7 : handle.dtype === 'int16' ? 15 : 31,
        PhotometricInterpretation: 'MONOCHROME2',
        PixelRepresentation: handle.dtype === 'uint8' ? 0 : 1,
        Modality: 'CT',
        SeriesInstanceUID: handle.seriesUid,
        ImageOrientationPatient: dir.slice(0, 6),
        // PixelSpacing is (row spacing, column spacing) = (j, i) (PS3.3 C.7.6.2.1.1).
        PixelSpacing: [handle.spacing[1], handle.spacing[0]],
        FrameOfReferenceUID: `delineate-${handle.seriesUid}`,
        Columns: handle.dims[0],
        Rows: handle.dims[1],
        voiLut: [{ windowWidth: WL_PRESETS['soft tissue'].width, windowCenter: WL_PRESETS['soft tissue'].level }],
        VOILUTFunction: 'LINEAR',
      },
      dimensions: [...handle.dims] as Types.Point3,
      spacing: [...handle.spacing] as Types.Point3,
      origin: [...handle.origin] as Types.Point3,
      direction: dir as unknown as Types.Mat3,
      scalarData: voxels,
    });
    this.handle = handle;
    this.voxels = voxels;
    this.volumeId = volumeId;
    performance.mark('delineate:mpr-volume');
    await setVolumesForViewports(engine, [{ volumeId }], this.ids());
    performance.mark('delineate:mpr-viewports');
    for (const v of VIEWS) this.viewport(v)?.resetCamera();
    this.setPreset('soft tissue', false);
    engine.render();
    performance.mark('delineate:mpr-render1');
    // A createLocalVolume volume shows a grey first frame until render() runs again on the next frame.
    await nextFrame();
    engine.render();
    await nextFrame();
    if (previous) cache.removeVolumeLoadObject(previous);
  }

  setPreset(name: PresetName, render = true): void {
    for (const v of VIEWS) this.viewport(v)?.setProperties({ voiRange: voiRange(WL_PRESETS[name]) });
    if (render) this.engine?.render();
  }

  private eventToWorld(view: ViewName, e: { clientX: number; clientY: number }): Vec3 | undefined {
    const vp = this.viewport(view);
    if (!vp || !this.handle) return undefined;
    const r = this.elements[view].getBoundingClientRect();
    return vp.canvasToWorld([e.clientX - r.left, e.clientY - r.top]) as Vec3;
  }

  worldToCanvas(view: ViewName, p: Vec3): [number, number] | undefined {
    const vp = this.viewport(view);
    return vp ? (vp.worldToCanvas(p as Types.Point3) as [number, number]) : undefined;
  }

  canvasToWorld(view: ViewName, xy: [number, number]): Vec3 | undefined {
    const vp = this.viewport(view);
    return vp ? (vp.canvasToWorld(xy) as Vec3) : undefined;
  }

  /** Signed distance (mm) of a point from the view's current slice plane. */
  planeDistance(view: ViewName, p: Vec3): number {
    const cam = this.viewport(view)?.getCamera();
    if (!cam?.focalPoint || !cam.viewPlaneNormal) return Infinity;
    return dot(sub(p, cam.focalPoint as Vec3), cam.viewPlaneNormal as Vec3);
  }

  /** Slice spacing along the view normal, to decide which points lie on the shown slice. */
  sliceThickness(view: ViewName): number {
    const h = this.handle;
    if (!h) return 1;
    const cam = this.viewport(view)?.getCamera();
    const n = (cam?.viewPlaneNormal ?? [0, 0, 1]) as Vec3;
    const d = h.direction;
    let best = h.spacing[2];
    let bestDot = 0;
    for (let a = 0; a < 3; a++) {
      const c = Math.abs(n[0] * d[a]! + n[1] * d[3 + a]! + n[2] * d[6 + a]!);
      if (c > bestDot) {
        bestDot = c;
        best = h.spacing[a]!;
      }
    }
    return best;
  }

  /** Moves every view's slice through `p` (keeps zoom and pan). */
  jumpTo(p: Vec3): void {
    for (const v of VIEWS) {
      const vp = this.viewport(v);
      const cam = vp?.getCamera();
      if (!vp || !cam?.focalPoint || !cam.position || !cam.viewPlaneNormal) continue;
      const n = cam.viewPlaneNormal as Vec3;
      const delta = dot(sub(p, cam.focalPoint as Vec3), n);
      const shift = (q: Types.Point3): Types.Point3 => [q[0] + delta * n[0], q[1] + delta * n[1], q[2] + delta * n[2]];
      vp.setCamera({ focalPoint: shift(cam.focalPoint), position: shift(cam.position) });
    }
    this.engine?.render();
  }

  render(): void {
    this.engine?.render();
  }

  /**
   * After the elements changed size (a toolbar row appeared): Cornerstone keeps the old canvas size
   * until told, and canvasToWorld then maps the mouse to the wrong place. Keeps the camera's focal point.
   */
  resize(): void {
    this.engine?.resize(true, true);
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  onCursor(l: (c: CursorInfo) => void): () => void {
    this.cursorListeners.add(l);
    return () => this.cursorListeners.delete(l);
  }

  onClick(l: (view: ViewName, lps: Vec3) => void): () => void {
    this.clickListeners.add(l);
    return () => this.clickListeners.delete(l);
  }

  destroy(): void {
    this.cleanup.forEach((c) => c());
    this.cleanup = [];
    ToolGroupManager.destroyToolGroup(TOOL_GROUP);
    this.engine?.destroy();
    this.engine = undefined;
    if (this.volumeId) cache.removeVolumeLoadObject(this.volumeId);
  }
}
