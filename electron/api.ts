/**
 * THE contract between the engine and every client: the Electron preload (window.delineate), the IPC
 * binding in the main process, the HTTP + WebSocket bridge, and the renderer's client. Each method
 * takes one request object and resolves to one response object; all positions are DICOM patient
 * coordinates (LPS, mm). Channel names are the method names in API_METHODS (api-methods.ts, the
 * request validators of these methods, one per method): nothing else spells them.
 *
 * This file holds types and plain constants only, so the renderer can import it without pulling in
 * Node code.
 */
import type { ErrorPayload } from './engine/errors.js';
import { ApiValidationError } from './api-validate.js';
import type { NodeConfig, NodeStatusInfo, PacsStudy } from './api-node.js';

export type { ErrorPayload };
export { ApiValidationError };
export type Vec3 = [number, number, number];
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export interface SeriesSummary {
  seriesUid: string;
  studyUid: string;
  patientId: string;
  patientName: string;
  modality: string;
  frameOfReferenceUid: string;
  description: string;
  studyDate: string;
  /** [columns, rows, slices] */
  dims: Vec3;
  spacing: Vec3;
  /** Centre of the first voxel, LPS mm. */
  origin: Vec3;
  /** Row-major 3x3, columns = directions of the i, j, k axes in LPS. */
  direction: Mat3;
  instances: number;
  source: 'dicom' | 'nifti';
}

export interface ImportedObject {
  sopInstanceUid: string;
  modality: string;
  referencedSeriesUid: string | null;
  path: string;
}

export interface ImportWarning {
  path?: string;
  seriesUid?: string;
  message: string;
}

export interface ImportResult {
  series: SeriesSummary[];
  objects: ImportedObject[];
  skipped: { path: string; reason: string }[];
  warnings: ImportWarning[];
}

/** How the renderer fetches a volume's voxels: raw little-endian typed array at `url`. */
export interface VolumeHandle {
  seriesUid: string;
  url: string;
  dtype: 'int16' | 'float32' | 'uint8';
  dims: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
}

/** A structure name the UI offers: the TG-263 catalogue plus custom names stored in the database. */
export interface StructureInfo {
  name: string;
  /** #rrggbb */
  color: string;
  /** head-and-neck | thorax | abdomen | pelvis | whole-body, or '' for custom names. */
  site: string;
  description: string;
}

export type TemplateSource = 'clicked' | 'rtstruct' | 'labels';

/**
 * Six extreme points, LPS mm, in slot order: 0 right (min x), 1 left (max x), 2 anterior (min y),
 * 3 posterior (max y), 4 inferior (min z), 5 superior (max z) (electron/engine/store/extreme-order.ts).
 */
export type ExtremePoints = Vec3[];

export interface TemplateMemberInfo {
  seriesUid: string;
  points: ExtremePoints;
  source: TemplateSource;
  sourceRef: string;
}

export interface TemplateSetInfo {
  name: string;
  site: string;
  structures: { name: string; color: string; members: TemplateMemberInfo[] }[];
}

export interface TemplateMemberKey {
  set: string;
  structure: string;
  seriesUid: string;
}

/** A set of contours drawn on a series that the viewer can overlay (an RTSTRUCT, later results). */
export interface StructureSetInfo {
  id: string;
  label: string;
  kind: 'rtstruct' | 'results';
}

export interface ContourStructure {
  name: string;
  color: string;
  /** Closed planar contours; each is a flat array of LPS mm triplets [x0, y0, z0, x1, ...]. */
  contours: number[][];
}

/**
 * The models folder as the first-run setup screen shows it (the checks of `delineate models check`):
 * each file verified against the manifest's sha256, the backend each step will use, and ONNX
 * Runtime's execution providers here. No models is a normal state: both steps use the atlas backend.
 */
export interface ModelsStatusInfo {
  /** Absolute path of the folder checked. */
  dir: string;
  /** The request's folder, DELINEATE_MODELS, or the per-user default. */
  dirSource: 'request' | 'env' | 'default';
  /** False when the folder or its manifest.json is missing or unreadable (`problem` says which). */
  manifestOk: boolean;
  problem?: string;
  models: { name: string; role: string; file: string; precision?: 'fp32' | 'fp16'; ok: boolean; problem?: string }[];
  localizer: { backend: 'medlam' | 'atlas'; problem?: string };
  segmenter: { backend: 'medsam' | 'atlas'; problem?: string };
  /** Best first; `inUse` is what sessions will be created with ('none' with `problem` when DELINEATE_EP is unusable). */
  executionProviders: { available: string[]; inUse: string; problem?: string };
}

/** A batch run as the Runs screen lists it (electron/engine/jobs). */
export interface RunSummary {
  runId: number;
  templateSet: string;
  status: 'pending' | 'running' | 'cancelled' | 'done';
  mode: 'wpl' | 'spl';
  localizer: string | null;
  segmenter: string | null;
  createdAt: string;
  finishedAt: string | null;
  items: { seriesUid: string; status: 'pending' | 'running' | 'done' | 'failed'; error?: string }[];
}

/** Metrics of one structure against a reference (electron/engine/metrics/evaluate.ts). */
export interface StructureMetricsInfo {
  dice: number | null;
  hd95Mm: number | null;
  surfaceDice2mm: number | null;
  boxIou: number | null;
  wallDistanceMm: number | null;
  volumeDiffCc: number | null;
  status: string;
}

/** One stored result in the review screen. */
export interface ReviewStructureInfo {
  structure: string;
  color: string;
  templateSet: string;
  state: 'pending' | 'approved' | 'rejected';
  reviewer: string;
  confidence: number | null;
  flags: string[];
  /** Localizer boxes, LPS mm: [min corner, max corner] each. */
  boxes: [Vec3, Vec3][];
  hasMask: boolean;
  volumeCc: number | null;
  /** The current mask revision (0: none yet); an edit saves the next one and keeps the earlier ones. */
  revision?: number;
  /** Null when the series has no reference RTSTRUCT or the reference lacks this structure. */
  metrics: StructureMetricsInfo | null;
  /** Template scans that voted for the result (the audit trail's last 'created' entry; atlas: the selected ones). */
  templates?: string[];
}

export interface ReviewInfo {
  seriesUid: string;
  /** The template set shown (the request's, else the one of the most recent result; '' when none). */
  templateSet: string;
  structures: ReviewStructureInfo[];
  /** The reference RTSTRUCT the metrics were measured against (null when none exists). */
  reference: { sopInstanceUid: string; label: string } | null;
  /** Every RTSTRUCT in the archive on this series, for the reference picker (the first is the default). */
  references?: { sopInstanceUid: string; label: string }[];
  /** Why the metrics are missing although a reference exists. */
  metricsProblem?: string;
}

export type ReviewDecision = 'approved' | 'rejected' | 'pending';

// DICOM node (engine/node) and PACS search (engine/dimse/query): api-node.ts.
export type { NodeConfig, NodeAssociationInfo, NodeSeriesInfo, NodeJobInfo, NodeStatusInfo, PacsStudy } from './api-node.js';

/** The audit trail's hash-chain check (`delineate audit verify`); the review screen warns when not ok. */
export interface AuditVerificationInfo {
  ok: boolean;
  entries: number;
  /** Hash of the newest entry. */
  head: string;
  firstBroken?: { id: number; reason: 'edited' | 'deleted' | 'inserted'; message: string };
}

export interface DelineateApi {
  importPaths(req: { paths: string[] }): Promise<ImportResult>;
  listSeries(req: Record<string, never>): Promise<{ series: SeriesSummary[] }>;
  openVolume(req: { seriesUid: string }): Promise<VolumeHandle>;
  /** Native folder dialog (Electron only); the browser client types a path instead. */
  chooseFolder(req: Record<string, never>): Promise<{ paths: string[] }>;
  listStructures(req: Record<string, never>): Promise<{ structures: StructureInfo[] }>;
  listTemplateSets(req: Record<string, never>): Promise<{ sets: TemplateSetInfo[] }>;
  /** Stores (or replaces) one member; the points come back in slot order. */
  saveTemplateMember(req: TemplateMemberKey & { points: ExtremePoints; color?: string }): Promise<TemplateMemberKey & { points: ExtremePoints }>;
  deleteTemplateMember(req: TemplateMemberKey): Promise<Record<string, never>>;
  /** Members from a NIfTI label map on the series grid; `names` maps label values to structure names. */
  deriveTemplatesFromLabels(req: {
    set: string;
    seriesUid: string;
    labelsPath: string;
    names: Record<string, string>;
    structures?: string[];
  }): Promise<{ set: string; structures: { name: string; points: ExtremePoints }[] }>;
  listStructureSets(req: { seriesUid: string }): Promise<{ structureSets: StructureSetInfo[] }>;
  getContours(req: { seriesUid: string; structureSetId: string }): Promise<{ structures: ContourStructure[] }>;
  /** Verifies a models folder (default: DELINEATE_MODELS or the per-user one) for the setup screen. */
  modelsStatus(req: { dir?: string }): Promise<ModelsStatusInfo>;
  /** Starts (or resumes) a batch run; progress arrives as `runProgress` events. */
  startRun(req: { templateSet: string; seriesUids: string[]; mode?: 'wpl' | 'spl' }): Promise<{ runId: number }>;
  cancelRun(req: { runId: number }): Promise<Record<string, never>>;
  listRuns(req: Record<string, never>): Promise<{ runs: RunSummary[] }>;
  /** `reference`: the SOP Instance UID of the RTSTRUCT to measure against (default: the first on the series). */
  getReview(req: { seriesUid: string; templateSet?: string; reference?: string }): Promise<ReviewInfo>;
  /** The same decision for one structure on every series given (all or nothing; audited). */
  reviewStructures(req: { seriesUids: string[]; templateSet: string; structure: string; state: ReviewDecision; reviewer: string }): Promise<{ reviewed: number }>;
  /** Writes the approved structures of a series as an RTSTRUCT at `outPath` (audited). */
  exportRtstruct(req: { seriesUid: string; templateSet?: string; approvedOnly: true; outPath: string; reviewer?: string }): Promise<{ out: string; sopInstanceUid: string; structures: string[] }>;
  /** Re-segments one structure with an edited box [min, max] or six extreme points (LPS mm); audited, review back to pending. */
  rerunStructure(req: { seriesUid: string; templateSet: string; structure: string; box?: [Vec3, Vec3]; extremePoints?: Vec3[]; reviewer: string }): Promise<{ structure: string; boxes: [Vec3, Vec3][]; voxels: number; volumeCc: number; reviewState: ReviewDecision }>;
  /** Starts the DICOM node in the engine process (one at a time); rules are validated first. */
  nodeStart(req: NodeConfig): Promise<NodeStatusInfo>;
  nodeStop(req: Record<string, never>): Promise<NodeStatusInfo>;
  nodeStatus(req: Record<string, never>): Promise<NodeStatusInfo>;
  /** Validates rules JSON text; the error names the field at fault. */
  nodeValidateRules(req: { rules: string }): Promise<{ rules: number; allowedCallingAeTitles: string[] | null }>;
  /** C-FIND on a PACS (AET@HOST:PORT or a saved destination name): studies with their series. */
  pacsSearch(req: { from: string; patientId?: string; studyUid?: string; modality?: string }): Promise<{ studies: PacsStudy[] }>;
  /** Checks the audit trail's hash chain (edited, deleted or out-of-order entries). */
  verifyAudit(req: Record<string, never>): Promise<AuditVerificationInfo>;
  /** Members from every archived RTSTRUCT whose ROI names map to the set's structures (or `structures`); the rest skipped with a reason; outliers recomputed. */
  deriveTemplatesFromArchive(req: { set: string; structures?: string[] }): Promise<BulkDeriveInfo>;
  /** Recomputes and lists the set's outlier members (left out of atlas fusion unless kept). */
  listTemplateOutliers(req: { set: string }): Promise<{ set: string; flagged: TemplateOutlierInfo[] }>;
  /** A person keeps a flagged member in atlas fusion (keep: false leaves it out again). */
  keepTemplateMember(req: TemplateMemberKey & { keep: boolean }): Promise<{ set: string; flagged: TemplateOutlierInfo[] }>;
  /** A stored mask (current revision unless `revision`) on the series grid, run-length packed (engine/review/rle.ts). */
  getStructureMask(req: StructureKey & { revision?: number }): Promise<StructureMaskInfo>;
  /** Saves a reviewer-edited (or newly drawn) mask as a new revision: marked edited (MANUAL), pending, audited. */
  saveStructureEdit(req: StructureKey & { runs: string; reviewer: string; baseRevision?: number }): Promise<StructureEditInfo>;
  /** The structures a contour file offers: an RTSTRUCT's ROI names, or a label map's values with names from a file beside it. */
  listContourNames(req: { path: string }): Promise<{ kind: 'rtstruct' | 'labels'; structures: { name: string; value?: number; contours?: number }[]; namesFile?: string }>;
  /** Members from an RTSTRUCT's contours on the series (the ROIs named, or all with contours). */
  deriveTemplatesFromRtstruct(req: { set: string; seriesUid: string; rtstructPath: string; structures?: string[] }): Promise<{ set: string; structures: { name: string; points: ExtremePoints }[] }>;
  /** One page of the archive's series matching the filters (the Studies screen; engine/store/search.ts). */
  searchSeries(req: SeriesSearchRequest): Promise<SeriesSearchResult>;
}

/** One structure of a series' results. */
export interface StructureKey {
  seriesUid: string;
  templateSet: string;
  structure: string;
}

/** A mask on the series grid: `runs` alternate zeros and ones, i fastest, then j, then k (engine/review/rle.ts). */
export interface StructureMaskInfo {
  structure: string;
  revision: number;
  voxels: number;
  /** [columns, rows, slices] of the series grid. */
  dims: Vec3;
  runs: string;
}

export interface StructureEditInfo {
  structure: string;
  revision: number;
  voxels: number;
  volumeCc: number;
  voxelsAdded: number;
  voxelsRemoved: number;
  /** True when the structure had no result on the series before (drawn from scratch). */
  created: boolean;
}

export type RunStateFilter = 'none' | 'pending' | 'running' | 'done' | 'failed';
export type ReviewStateFilter = 'none' | 'pending' | 'approved' | 'rejected';
export const RUN_STATE_FILTERS: readonly RunStateFilter[] = ['none', 'pending', 'running', 'done', 'failed'];
export const REVIEW_STATE_FILTERS: readonly ReviewStateFilter[] = ['none', 'pending', 'approved', 'rejected'];

export interface SeriesSearchRequest {
  /** Substring of patient id or name, study or series description, or series UID. */
  text?: string;
  modality?: string;
  /** Study date range, DICOM DA (YYYYMMDD), inclusive. */
  dateFrom?: string;
  dateTo?: string;
  runState?: RunStateFilter;
  reviewState?: ReviewStateFilter;
  offset?: number;
  /** Page size, at most 200 (default 50). */
  limit?: number;
}

export interface SeriesSearchResult {
  /** Series matching the filters, over all pages. */
  total: number;
  offset: number;
  series: (SeriesSummary & {
    /** RTSTRUCTs in the archive that reference the series. */
    rtstructs: number;
    results: { total: number; pending: number; approved: number; rejected: number };
    runState: RunStateFilter;
  })[];
}

/** A template member whose volume, extent or position is an outlier in its set. */
export interface TemplateOutlierInfo {
  structure: string;
  seriesUid: string;
  reasons: string[];
  kept: boolean;
}

export interface BulkDeriveInfo {
  set: string;
  derived: { file: string; seriesUid: string; structures: string[] }[];
  skipped: { file: string; seriesUid?: string; reason: string }[];
  outliers: TemplateOutlierInfo[];
}

export type ApiMethod = keyof DelineateApi;
export type ApiRequest<M extends ApiMethod> = Parameters<DelineateApi[M]>[0];
export type ApiResponse<M extends ApiMethod> = Awaited<ReturnType<DelineateApi[M]>>;

/** Events pushed from the engine to clients (IPC `webContents.send`, WebSocket messages). */
export interface ApiEvents {
  progress: { task: string; done: number; total: number; message?: string };
  /** A batch run's progress; `item` names the series whose state just changed. */
  runProgress: {
    runId: number;
    done: number;
    failed: number;
    total: number;
    status: 'pending' | 'running' | 'cancelled' | 'done';
    etaSeconds?: number;
    /** Why the run stopped before its items finished (backends could not be loaded, ...). */
    error?: string;
    item?: { seriesUid: string; status: 'pending' | 'running' | 'done' | 'failed'; done?: number; total?: number; error?: string };
  };
}
export type ApiEventName = keyof ApiEvents;

/** The one IPC channel for engine -> renderer events (requests use the method names as channels). */
export const API_EVENT_CHANNEL = 'delineate:event';

/** What crosses IPC and HTTP: a result or an error payload (rebuilt by fromErrorPayload on arrival). */
export type ApiEnvelope<T> = { result: T } | { error: ErrorPayload };

/**
 * What the Electron preload exposes as window.delineate: one function per api method returning the
 * envelope (class instances do not survive contextBridge), and an event subscription.
 */
export type PreloadApi = { [M in ApiMethod]: (req: ApiRequest<M>) => Promise<ApiEnvelope<ApiResponse<M>>> } & {
  onEvent(listener: (event: ApiEventName, payload: ApiEvents[ApiEventName]) => void): () => void;
};
