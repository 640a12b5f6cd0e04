/**
 * The request validators of electron/api.ts's methods, one per method: every request is checked
 * where it enters the main process (IPC) or the bridge (HTTP), so nothing unchecked reaches the
 * engine. The keys of API_METHODS are the channel names. Plain functions with no Node imports, like
 * api.ts, so the renderer's client can take the method names from here.
 */
import {
  REVIEW_STATE_FILTERS,
  RUN_STATE_FILTERS,
  type ApiMethod,
  type ApiRequest,
  type ReviewStateFilter,
  type RunStateFilter,
  type SeriesSearchRequest,
  type StructureKey,
  type TemplateMemberKey,
  type Vec3,
} from './api.js';
import { ApiValidationError, empty, obj, optString, points, positiveInt, string, stringMap, strings, type Validator } from './api-validate.js';

function memberKey(o: Record<string, unknown>, method: string): TemplateMemberKey {
  return { set: string(o, 'set', method), structure: string(o, 'structure', method), seriesUid: string(o, 'seriesUid', method) };
}

function structureKey(o: Record<string, unknown>, m: string): StructureKey {
  return { seriesUid: string(o, 'seriesUid', m), templateSet: string(o, 'templateSet', m), structure: string(o, 'structure', m) };
}

/** A packed mask (engine/review/rle.ts): base64, longer than the 4096 characters of a plain string field. */
function packedRuns(o: Record<string, unknown>, key: string, m: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new ApiValidationError(`${m}: '${key}' must be the packed runs of a mask (base64)`);
  return v;
}

function optRevision<K extends string>(o: Record<string, unknown>, key: K, m: string): { [P in K]?: number } {
  if (o[key] === undefined) return {};
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ApiValidationError(`${m}: '${key}' must be a non-negative integer`);
  return { [key]: v } as { [P in K]?: number };
}

/** One validator per method; the keys of this object are the channel names. */
export const API_METHODS: { [M in ApiMethod]: Validator<ApiRequest<M>> } = {
  importPaths: (x) => ({ paths: strings(obj(x, 'importPaths'), 'paths', 'importPaths') }),
  listSeries: (x) => {
    obj(x, 'listSeries');
    return {};
  },
  openVolume: (x) => ({ seriesUid: string(obj(x, 'openVolume'), 'seriesUid', 'openVolume') }),
  chooseFolder: (x) => empty(x, 'chooseFolder'),
  listStructures: (x) => empty(x, 'listStructures'),
  listTemplateSets: (x) => empty(x, 'listTemplateSets'),
  saveTemplateMember: (x) => {
    const o = obj(x, 'saveTemplateMember');
    const color = optString(o, 'color', 'saveTemplateMember');
    return { ...memberKey(o, 'saveTemplateMember'), points: points(o, 'points', 'saveTemplateMember'), ...(color ? { color } : {}) };
  },
  deleteTemplateMember: (x) => memberKey(obj(x, 'deleteTemplateMember'), 'deleteTemplateMember'),
  deriveTemplatesFromLabels: (x) => {
    const m = 'deriveTemplatesFromLabels';
    const o = obj(x, m);
    return {
      set: string(o, 'set', m),
      seriesUid: string(o, 'seriesUid', m),
      labelsPath: string(o, 'labelsPath', m),
      names: stringMap(o, 'names', m),
      ...(o.structures !== undefined ? { structures: strings(o, 'structures', m) } : {}),
    };
  },
  listStructureSets: (x) => ({ seriesUid: string(obj(x, 'listStructureSets'), 'seriesUid', 'listStructureSets') }),
  getContours: (x) => {
    const o = obj(x, 'getContours');
    return { seriesUid: string(o, 'seriesUid', 'getContours'), structureSetId: string(o, 'structureSetId', 'getContours') };
  },
  modelsStatus: (x) => {
    const dir = optString(obj(x, 'modelsStatus'), 'dir', 'modelsStatus');
    return dir ? { dir } : {};
  },
  startRun: (x) => {
    const m = 'startRun';
    const o = obj(x, m);
    const mode = optString(o, 'mode', m);
    if (mode !== undefined && mode !== 'wpl' && mode !== 'spl') throw new ApiValidationError(`${m}: 'mode' must be wpl or spl`);
    const seriesUids = strings(o, 'seriesUids', m);
    if (seriesUids.length === 0) throw new ApiValidationError(`${m}: 'seriesUids' must name at least one series`);
    return { templateSet: string(o, 'templateSet', m), seriesUids, ...(mode ? { mode } : {}) };
  },
  cancelRun: (x) => ({ runId: positiveInt(obj(x, 'cancelRun'), 'runId', 'cancelRun') }),
  listRuns: (x) => empty(x, 'listRuns'),
  getReview: (x) => {
    const o = obj(x, 'getReview');
    const templateSet = optString(o, 'templateSet', 'getReview');
    const reference = optString(o, 'reference', 'getReview');
    return { seriesUid: string(o, 'seriesUid', 'getReview'), ...(templateSet ? { templateSet } : {}), ...(reference ? { reference } : {}) };
  },
  reviewStructures: (x) => {
    const m = 'reviewStructures';
    const o = obj(x, m);
    const state = string(o, 'state', m);
    if (state !== 'approved' && state !== 'rejected' && state !== 'pending') throw new ApiValidationError(`${m}: 'state' must be approved, rejected or pending`);
    const seriesUids = strings(o, 'seriesUids', m);
    if (seriesUids.length === 0) throw new ApiValidationError(`${m}: 'seriesUids' must name at least one series`);
    return { seriesUids, templateSet: string(o, 'templateSet', m), structure: string(o, 'structure', m), state, reviewer: string(o, 'reviewer', m) };
  },
  exportRtstruct: (x) => {
    const m = 'exportRtstruct';
    const o = obj(x, m);
    if (o.approvedOnly !== true) throw new ApiValidationError(`${m}: 'approvedOnly' must be true (only approved structures leave the application)`);
    const templateSet = optString(o, 'templateSet', m);
    const reviewer = optString(o, 'reviewer', m);
    return { seriesUid: string(o, 'seriesUid', m), outPath: string(o, 'outPath', m), approvedOnly: true, ...(templateSet ? { templateSet } : {}), ...(reviewer ? { reviewer } : {}) };
  },
  rerunStructure: (x) => {
    const m = 'rerunStructure';
    const o = obj(x, m);
    const base = { seriesUid: string(o, 'seriesUid', m), templateSet: string(o, 'templateSet', m), structure: string(o, 'structure', m), reviewer: string(o, 'reviewer', m) };
    if ((o.box === undefined) === (o.extremePoints === undefined)) throw new ApiValidationError(`${m}: give exactly one of 'box' and 'extremePoints'`);
    if (o.extremePoints !== undefined) return { ...base, extremePoints: points(o, 'extremePoints', m) };
    const v = o.box;
    const ok = Array.isArray(v) && v.length === 2 && v.every((p) => Array.isArray(p) && p.length === 3 && p.every((c) => typeof c === 'number' && Number.isFinite(c)));
    if (!ok) throw new ApiValidationError(`${m}: 'box' must be [[x, y, z], [x, y, z]] (min, max; LPS mm)`);
    const [lo, hi] = v as [Vec3, Vec3];
    return { ...base, box: [[lo[0], lo[1], lo[2]], [hi[0], hi[1], hi[2]]] };
  },
  nodeStart: (x) => {
    const m = 'nodeStart';
    const o = obj(x, m);
    const port = positiveInt(o, 'port', m);
    if (port > 65535) throw new ApiValidationError(`${m}: 'port' must be 1-65535`);
    const bind = optString(o, 'bind', m);
    const rules = optString(o, 'rules', m);
    const backend = optString(o, 'backend', m);
    const q = o.quietSeconds;
    if (q !== undefined && (typeof q !== 'number' || !Number.isFinite(q) || q < 0)) throw new ApiValidationError(`${m}: 'quietSeconds' must be a number of seconds >= 0`);
    return { aeTitle: string(o, 'aeTitle', m), port, ...(bind ? { bind } : {}), ...(typeof q === 'number' ? { quietSeconds: q } : {}), ...(rules !== undefined ? { rules } : {}), ...(backend ? { backend } : {}) };
  },
  nodeStop: (x) => empty(x, 'nodeStop'),
  nodeStatus: (x) => empty(x, 'nodeStatus'),
  nodeValidateRules: (x) => ({ rules: string(obj(x, 'nodeValidateRules'), 'rules', 'nodeValidateRules') }),
  pacsSearch: (x) => {
    const m = 'pacsSearch';
    const o = obj(x, m);
    const patientId = optString(o, 'patientId', m);
    const studyUid = optString(o, 'studyUid', m);
    const modality = optString(o, 'modality', m);
    if (!patientId === !studyUid) throw new ApiValidationError(`${m}: give exactly one of 'patientId' and 'studyUid'`);
    return { from: string(o, 'from', m), ...(patientId ? { patientId } : {}), ...(studyUid ? { studyUid } : {}), ...(modality ? { modality } : {}) };
  },
  getStructureMask: (x) => {
    const o = obj(x, 'getStructureMask');
    return { ...structureKey(o, 'getStructureMask'), ...optRevision(o, 'revision', 'getStructureMask') };
  },
  saveStructureEdit: (x) => {
    const m = 'saveStructureEdit';
    const o = obj(x, m);
    return { ...structureKey(o, m), runs: packedRuns(o, 'runs', m), reviewer: string(o, 'reviewer', m), ...optRevision(o, 'baseRevision', m) };
  },
  listContourNames: (x) => ({ path: string(obj(x, 'listContourNames'), 'path', 'listContourNames') }),
  deriveTemplatesFromRtstruct: (x) => {
    const m = 'deriveTemplatesFromRtstruct';
    const o = obj(x, m);
    return {
      set: string(o, 'set', m),
      seriesUid: string(o, 'seriesUid', m),
      rtstructPath: string(o, 'rtstructPath', m),
      ...(o.structures !== undefined ? { structures: strings(o, 'structures', m) } : {}),
    };
  },
  searchSeries: (x) => {
    const m = 'searchSeries';
    const o = obj(x, m);
    const out: SeriesSearchRequest = {};
    for (const k of ['text', 'modality', 'dateFrom', 'dateTo'] as const) {
      const v = optString(o, k, m);
      if (v !== undefined) out[k] = v;
    }
    const run = optString(o, 'runState', m);
    if (run !== undefined) {
      if (!(RUN_STATE_FILTERS as readonly string[]).includes(run)) throw new ApiValidationError(`${m}: 'runState' must be one of ${RUN_STATE_FILTERS.join(', ')}`);
      out.runState = run as RunStateFilter;
    }
    const review = optString(o, 'reviewState', m);
    if (review !== undefined) {
      if (!(REVIEW_STATE_FILTERS as readonly string[]).includes(review)) throw new ApiValidationError(`${m}: 'reviewState' must be one of ${REVIEW_STATE_FILTERS.join(', ')}`);
      out.reviewState = review as ReviewStateFilter;
    }
    return { ...out, ...optRevision(o, 'offset', m), ...optRevision(o, 'limit', m) };
  },
  verifyAudit: (x) => empty(x, 'verifyAudit'),
  deriveTemplatesFromArchive: (x) => {
    const m = 'deriveTemplatesFromArchive';
    const o = obj(x, m);
    return { set: string(o, 'set', m), ...(o.structures !== undefined ? { structures: strings(o, 'structures', m) } : {}) };
  },
  listTemplateOutliers: (x) => ({ set: string(obj(x, 'listTemplateOutliers'), 'set', 'listTemplateOutliers') }),
  keepTemplateMember: (x) => {
    const m = 'keepTemplateMember';
    const o = obj(x, m);
    if (typeof o.keep !== 'boolean') throw new ApiValidationError(`${m}: 'keep' must be true or false`);
    return { ...memberKey(o, m), keep: o.keep };
  },
};

export const API_METHOD_NAMES = Object.keys(API_METHODS) as ApiMethod[];
