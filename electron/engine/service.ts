/**
 * The one implementation of DelineateApi over the engine. The Electron IPC binding, the HTTP bridge
 * and the tests all call this; they differ only in transport. Requests arrive already validated
 * (API_METHODS) at the boundary. Blocking work is kept off the caller's turn of the event loop:
 * imports and volume loads are async, and large voxel conversions yield between slabs.
 *
 * Volume voxels are not part of any api response: openVolume returns a handle whose `url` the
 * transport serves from `volumeBytes` (custom protocol in Electron, HTTP GET in the bridge), as the
 * raw little-endian typed array, never base64.
 */
import { EventEmitter } from 'node:events';
import type {
  ApiEventName,
  ApiEvents,
  ContourStructure,
  DelineateApi,
  ImportResult,
  SeriesSummary,
  StructureInfo,
  VolumeHandle,
} from '../api.js';
import { InputError, NotFoundError, UnsupportedError } from './errors.js';
import { openDatabase, type Db } from './store/db.js';
import { STRUCTURE_CATALOGUE } from './store/structures.js';
import {
  addTemplateMember,
  deleteTemplateMember,
  getTemplateSet,
  listStructures,
  listTemplateSets,
} from './store/templates.js';
import { deriveFromLabelFile } from './service-derive.js';
import { deriveTemplatesFromArchive } from './rtstruct/derive-bulk.js';
import { flagTemplateOutliers, keepTemplateMember, listTemplateOutliers } from './store/template-outliers.js';
import { createReviewService } from './service-review.js';
import { createNodeService } from './service-node.js';
import { searchSeries } from './store/search.js';
import { contourNames } from './rtstruct/contour-names.js';
import { deriveTemplatesFromRtstruct } from './rtstruct/derive.js';
import { modelsSetupStatus } from './models/status.js';
import type { Volume } from './volume/volume.js';
import { verifyAuditChain } from './audit/chain.js';
import { scheduleDailyBackups } from './store/backup.js';

export type VoxelVolume = Volume<Int16Array | Float32Array | Uint8Array>;

/** The archive functions the service needs (electron/engine/dicom, store/archive, volume/load). */
export interface ArchivePort {
  importPaths(db: Db, paths: string[], opts: { signal?: AbortSignal; onProgress?: (done: number, total: number, message?: string) => void }): Promise<ImportResult>;
  listSeries(db: Db): SeriesSummary[] | Promise<SeriesSummary[]>;
  loadVolume(db: Db, seriesUid: string, opts: { signal?: AbortSignal }): Promise<VoxelVolume>;
}

/** Contours of a structure set (an RTSTRUCT or stored results) projected for overlay. */
export interface ContourPort {
  listStructureSets(db: Db, seriesUid: string): { id: string; label: string; kind: 'rtstruct' | 'results' }[];
  getContours(db: Db, seriesUid: string, structureSetId: string): Promise<ContourStructure[]>;
}

export interface EngineServiceOptions {
  dbPath: string;
  archive: ArchivePort;
  contours?: ContourPort;
  /** The URL the renderer fetches a volume's voxels from (default: `/volume/<uid>`, relative to the page). */
  volumeUrl?: (seriesUid: string) => string;
  /** How many decoded volumes to keep (the viewer reopens the last ones often). */
  volumeCacheSize?: number;
}

export interface VolumeBytes {
  dtype: VolumeHandle['dtype'];
  bytes: Uint8Array;
}

export interface EngineService extends DelineateApi {
  /** Raw voxels for a handle's URL, little-endian, i fastest. */
  volumeBytes(seriesUid: string): Promise<VolumeBytes>;
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
  close(): void;
}

interface CachedVolume {
  handle: VolumeHandle;
  voxels: VolumeBytes;
}

/** Float CT with integral values fits int16 losslessly and halves the transfer; yields between slabs. */
async function compact(v: VoxelVolume): Promise<VolumeBytes> {
  if (v.data instanceof Int16Array) return { dtype: 'int16', bytes: new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength) };
  if (v.data instanceof Uint8Array) return { dtype: 'uint8', bytes: v.data };
  const f = v.data;
  const out = new Int16Array(f.length);
  const slab = 1 << 20;
  for (let s = 0; s < f.length; s += slab) {
    const end = Math.min(f.length, s + slab);
    for (let i = s; i < end; i++) {
      const x = f[i]!;
      if (x !== Math.round(x) || x < -32768 || x > 32767) return { dtype: 'float32', bytes: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
      out[i] = x;
    }
    await new Promise<void>((r) => setImmediate(r));
  }
  return { dtype: 'int16', bytes: new Uint8Array(out.buffer) };
}

export function createEngineService(opts: EngineServiceOptions): EngineService {
  const db = openDatabase(opts.dbPath, { check: 'quick' });
  const events = new EventEmitter();
  // Daily online backup while the service runs (store/backup.ts); a failure is reported on stderr
  // (the app's log) and retried at the next hourly check.
  const backups =
    opts.dbPath === ':memory:'
      ? undefined
      : scheduleDailyBackups(db, opts.dbPath, (e) => process.stderr.write(`delineate: daily backup of ${opts.dbPath} failed: ${(e as Error).message}\n`));
  const volumeUrl = opts.volumeUrl ?? ((uid: string) => `/volume/${encodeURIComponent(uid)}`);
  const cacheSize = opts.volumeCacheSize ?? 2;
  const cache = new Map<string, Promise<CachedVolume>>();
  const controller = new AbortController();

  function emit<E extends ApiEventName>(event: E, payload: ApiEvents[E]): void {
    events.emit(event, payload);
  }

  function loadCached(seriesUid: string): Promise<CachedVolume> {
    let p = cache.get(seriesUid);
    if (p) {
      cache.delete(seriesUid); // re-insert: most recently used last
      cache.set(seriesUid, p);
      return p;
    }
    p = (async () => {
      const v = await opts.archive.loadVolume(db, seriesUid, { signal: controller.signal });
      const voxels = await compact(v);
      const handle: VolumeHandle = {
        seriesUid,
        url: volumeUrl(seriesUid),
        dtype: voxels.dtype,
        dims: [...v.dims],
        spacing: [...v.spacing],
        origin: [...v.origin],
        direction: [...v.direction],
      };
      return { handle, voxels };
    })();
    p.catch(() => cache.delete(seriesUid));
    cache.set(seriesUid, p);
    while (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
    return p;
  }

  const review = createReviewService({ db, dbPath: opts.dbPath, emit: (p) => emit('runProgress', p) });
  const { cancelAll, ...reviewMethods } = review;
  const { stopNode, ...nodeMethods } = createNodeService({ db, dbPath: opts.dbPath });

  const service: EngineService = {
    ...reviewMethods,
    ...nodeMethods,
    async importPaths({ paths }) {
      const r = await opts.archive.importPaths(db, paths, {
        signal: controller.signal,
        onProgress: (done, total, message) => emit('progress', { task: 'import', done, total, ...(message ? { message } : {}) }),
      });
      for (const s of r.series) cache.delete(s.seriesUid); // re-imported series may have changed
      return r;
    },
    async listSeries() {
      return { series: await opts.archive.listSeries(db) };
    },
    async searchSeries(req) {
      return searchSeries(db, req);
    },
    async listContourNames({ path }) {
      return contourNames(path);
    },
    async deriveTemplatesFromRtstruct({ set, seriesUid, rtstructPath, structures }) {
      const r = deriveTemplatesFromRtstruct(db, { set, seriesUid, file: rtstructPath, ...(structures ? { structures } : {}) });
      return { set: r.set, structures: r.structures.map((s) => ({ name: s.name, points: s.points })) };
    },
    async verifyAudit() {
      return verifyAuditChain(db);
    },
    async openVolume({ seriesUid }) {
      return (await loadCached(seriesUid)).handle;
    },
    async volumeBytes(seriesUid) {
      return (await loadCached(seriesUid)).voxels;
    },
    chooseFolder() {
      return Promise.reject(new UnsupportedError('a folder dialog needs the desktop application; type the folder path instead'));
    },
    async listStructures() {
      const stored = listStructures(db);
      const seen = new Set<string>();
      const structures: StructureInfo[] = [];
      for (const c of STRUCTURE_CATALOGUE) {
        const s = stored.find((x) => x.name === c.name);
        structures.push({ name: c.name, color: s?.color ?? c.color, site: c.site, description: c.description });
        seen.add(c.name);
      }
      for (const s of stored) if (!seen.has(s.name)) structures.push({ name: s.name, color: s.color, site: '', description: s.description });
      return { structures };
    },
    async listTemplateSets() {
      return { sets: listTemplateSets(db) };
    },
    async saveTemplateMember(req) {
      addTemplateMember(db, {
        set: req.set,
        structure: req.structure,
        seriesUid: req.seriesUid,
        points: req.points,
        source: 'clicked',
        ...(req.color ? { color: req.color } : {}),
      });
      const set = getTemplateSet(db, req.set.trim());
      const member = set.structures.find((s) => s.name === req.structure.trim())?.members.find((m) => m.seriesUid === req.seriesUid);
      if (!member) throw new NotFoundError(`template ${req.structure} on series ${req.seriesUid} was not stored`, { templateSet: req.set });
      return { set: set.name, structure: req.structure.trim(), seriesUid: req.seriesUid, points: member.points };
    },
    async deleteTemplateMember(req) {
      deleteTemplateMember(db, req);
      return {};
    },
    async deriveTemplatesFromLabels(req) {
      const series = (await opts.archive.listSeries(db)).find((s) => s.seriesUid === req.seriesUid);
      if (!series) throw new NotFoundError(`series ${req.seriesUid} is not in the archive`, { seriesUid: req.seriesUid });
      const structures = await deriveFromLabelFile(db, { ...req, series });
      return { set: req.set, structures };
    },
    async deriveTemplatesFromArchive(req) {
      const r = deriveTemplatesFromArchive(db, req);
      return { ...r, outliers: r.derived.length > 0 ? flagTemplateOutliers(db, r.set) : [] };
    },
    async listTemplateOutliers({ set }) {
      return { set, flagged: flagTemplateOutliers(db, set) };
    },
    async keepTemplateMember(req) {
      keepTemplateMember(db, req, req.keep);
      return { set: req.set, flagged: listTemplateOutliers(db, req.set) };
    },
    async listStructureSets({ seriesUid }) {
      return { structureSets: opts.contours ? opts.contours.listStructureSets(db, seriesUid) : [] };
    },
    async getContours({ seriesUid, structureSetId }) {
      if (!opts.contours) throw new InputError(`no contour source is available for structure set ${structureSetId}`, { seriesUid });
      return { structures: await opts.contours.getContours(db, seriesUid, structureSetId) };
    },
    async modelsStatus({ dir }) {
      return modelsSetupStatus(dir);
    },
    on(event, listener) {
      events.on(event, listener);
      return () => events.off(event, listener);
    },
    close() {
      backups?.stop();
      cancelAll();
      void stopNode();
      controller.abort();
      cache.clear();
      events.removeAllListeners();
      db.close();
    },
  };
  return service;
}
