import type { Vec3 } from '../../../electron/api.js';

export function mm(v: number): string {
  return v.toFixed(2);
}

export function lps(p: Vec3): string {
  return `${mm(p[0])}, ${mm(p[1])}, ${mm(p[2])}`;
}

/** DICOM DA (YYYYMMDD) as YYYY-MM-DD. */
export function dicomDate(da: string): string {
  return /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}` : da;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
