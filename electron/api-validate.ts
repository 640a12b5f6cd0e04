/**
 * Field validators for API_METHODS (api-methods.ts): every request is checked where it enters the
 * main process (IPC) or the bridge (HTTP), so nothing unchecked reaches the engine. Plain functions
 * with no Node imports, so the renderer can load the contract too.
 */
type Vec3 = [number, number, number];

export class ApiValidationError extends Error {
  override readonly name = 'ApiValidationError';
}

export type Validator<T> = (x: unknown) => T;

export function obj(x: unknown, method: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) {
    throw new ApiValidationError(`${method}: request must be an object`);
  }
  return x as Record<string, unknown>;
}

export function string(o: Record<string, unknown>, key: string, method: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) {
    throw new ApiValidationError(`${method}: '${key}' must be a non-empty string`);
  }
  return v;
}

export function strings(o: Record<string, unknown>, key: string, method: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new ApiValidationError(`${method}: '${key}' must be an array of non-empty strings`);
  }
  return v as string[];
}

export function optString(o: Record<string, unknown>, key: string, method: string): string | undefined {
  return o[key] === undefined ? undefined : string(o, key, method);
}

export function empty(x: unknown, method: string): Record<string, never> {
  const o = obj(x, method);
  if (Object.keys(o).length > 0) throw new ApiValidationError(`${method}: takes no arguments`);
  return {};
}

export function points(o: Record<string, unknown>, key: string, method: string): Vec3[] {
  const v = o[key];
  const ok =
    Array.isArray(v) &&
    v.length === 6 &&
    v.every((p) => Array.isArray(p) && p.length === 3 && p.every((c) => typeof c === 'number' && Number.isFinite(c)));
  if (!ok) throw new ApiValidationError(`${method}: '${key}' must be six [x, y, z] points of finite numbers (LPS mm)`);
  return (v as Vec3[]).map((p) => [p[0], p[1], p[2]]);
}

export function stringMap(o: Record<string, unknown>, key: string, method: string): Record<string, string> {
  const v = o[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiValidationError(`${method}: '${key}' must be an object`);
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string' || s.length === 0) throw new ApiValidationError(`${method}: '${key}.${k}' must be a non-empty string`);
    out[k] = s;
  }
  return out;
}

export function positiveInt(o: Record<string, unknown>, key: string, method: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ApiValidationError(`${method}: '${key}' must be a positive integer`);
  return v;
}
