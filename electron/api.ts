/**
 * THE contract between the engine and every client: the Electron preload (window.delineate), the IPC
 * binding in the main process, the HTTP + WebSocket bridge, and the renderer's client. Each method
 * takes one request object and resolves to one response object; all positions are DICOM patient
 * coordinates (LPS, mm). Channel names are the method names in API_METHODS: nothing else spells them.
 *
 * This file holds types and plain validators only, so the renderer can import it without pulling in
 * Node code.
 */
import type { ErrorPayload } from './engine/errors.js';

export type { ErrorPayload };
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

export interface DelineateApi {
  importPaths(req: { paths: string[] }): Promise<ImportResult>;
  listSeries(req: Record<string, never>): Promise<{ series: SeriesSummary[] }>;
  openVolume(req: { seriesUid: string }): Promise<VolumeHandle>;
}

export type ApiMethod = keyof DelineateApi;
export type ApiRequest<M extends ApiMethod> = Parameters<DelineateApi[M]>[0];
export type ApiResponse<M extends ApiMethod> = Awaited<ReturnType<DelineateApi[M]>>;

/** Events pushed from the engine to clients (IPC `webContents.send`, WebSocket messages). */
export interface ApiEvents {
  progress: { task: string; done: number; total: number; message?: string };
}
export type ApiEventName = keyof ApiEvents;

// ---- validation: every request is checked where it enters the main process or the bridge ----

export class ApiValidationError extends Error {
  override readonly name = 'ApiValidationError';
}

type Validator<T> = (x: unknown) => T;

function obj(x: unknown, method: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) {
    throw new ApiValidationError(`${method}: request must be an object`);
  }
  return x as Record<string, unknown>;
}

function string(o: Record<string, unknown>, key: string, method: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) {
    throw new ApiValidationError(`${method}: '${key}' must be a non-empty string`);
  }
  return v;
}

function strings(o: Record<string, unknown>, key: string, method: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new ApiValidationError(`${method}: '${key}' must be an array of non-empty strings`);
  }
  return v as string[];
}

/** One validator per method; the keys of this object are the channel names. */
export const API_METHODS: { [M in ApiMethod]: Validator<ApiRequest<M>> } = {
  importPaths: (x) => ({ paths: strings(obj(x, 'importPaths'), 'paths', 'importPaths') }),
  listSeries: (x) => {
    obj(x, 'listSeries');
    return {};
  },
  openVolume: (x) => ({ seriesUid: string(obj(x, 'openVolume'), 'seriesUid', 'openVolume') }),
};

export const API_METHOD_NAMES = Object.keys(API_METHODS) as ApiMethod[];
