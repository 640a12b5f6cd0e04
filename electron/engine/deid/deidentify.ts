/**
 * De-identification of one dcmjs naturalized dataset by DICOM PS3.15 Annex E, Basic Application
 * Level Confidentiality Profile, optionally with the Retain Longitudinal Temporal Information with
 * Modified Dates Option (E.3.6). Every export calls it the same way:
 *
 *   const clean = deidentifyDataset(dataset, projectPseudonyms(db), { modifiedDates });
 *
 * The pseudonyms (UIDs, patient identity, date offset) come from a PseudonymMap, kept per project
 * in the local database (mapping.ts), so every object of one export and of later exports of the
 * same project agree (an RTSTRUCT keeps referencing its de-identified CT) and the mapping itself
 * never leaves the machine.
 */
import { createRequire } from 'node:module';
import { UnsupportedError } from '../errors.js';
import type { Naturalized } from '../rtstruct/dcmjs.js';
import { ACTIONS, METHOD_CODES, STANDARD_UID_ROOT } from './profile.js';

/** Consistent pseudonyms for one project (mapping.ts keeps them in the database). */
export interface PseudonymMap {
  /** The pseudonym UID of an original UID (the same original always gives the same pseudonym). */
  uid(original: string): string;
  /** The pseudonym identity of a patient, and the day offset applied to their dates. */
  patient(originalId: string, originalName: string): { id: string; name: string; dateOffsetDays: number };
}

export interface DeidOptions {
  /** Retain Longitudinal Temporal Information with Modified Dates: dates shifted per patient, not removed. */
  modifiedDates?: boolean;
  /** A person confirmed the pixels carry no burned-in identifiers: BurnedInAnnotation YES is exported. */
  allowBurnedInAnnotation?: boolean;
  /** Names the object in errors (a file, a series). */
  label?: string;
}

interface DictEntry {
  vr: string;
}
const nameMap = (createRequire(import.meta.url)('dcmjs') as { data: { DicomMetaDictionary: { nameMap: Record<string, DictEntry | undefined> } } }).data
  .DicomMetaDictionary.nameMap;

const HEX_TAG = /^[0-9A-Fa-f]{8}$/;

function vrOf(keyword: string, vrMap: Record<string, string> | undefined): string | undefined {
  return vrMap?.[keyword] ?? nameMap[keyword]?.vr;
}

function personName(d: Naturalized, key: string): string {
  const v = d[key];
  const first = Array.isArray(v) ? v[0] : v;
  if (first && typeof first === 'object' && 'Alphabetic' in first) return String((first as { Alphabetic?: unknown }).Alphabetic ?? '');
  return first === undefined || first === null ? '' : String(first);
}

/** YYYYMMDD shifted by whole days (UTC calendar); '' when the value is not a date. */
export function shiftDate(value: string, days: number): string {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(value.trim());
  if (!m) return '';
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (!Number.isFinite(t)) return '';
  const d = new Date(t + days * 86_400_000);
  const s = `${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  // DT keeps its time part; a DA or DT range keeps its form only for a single value.
  return value.trim().length > 8 ? s + value.trim().slice(8) : s;
}

function mapValues(v: unknown, f: (s: string) => string): unknown {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? f(x) : x));
  return typeof v === 'string' ? f(v) : v;
}

interface Context {
  map: PseudonymMap;
  opts: DeidOptions;
  offsetDays: number;
  depth: number;
}

function clean(d: Naturalized, ctx: Context): Naturalized {
  if (ctx.depth > 64) throw new UnsupportedError(`${ctx.opts.label ?? 'dataset'}: sequences nested more than 64 deep; refused`);
  const vrMap = d._vrMap as Record<string, string> | undefined;
  const out: Naturalized = {};
  for (const [key, value] of Object.entries(d)) {
    if (key === '_vrMap' || key === '_meta') continue;
    // Private and unknown tags: naturalized datasets keep them under their hex tag; removed (E.3.10 not claimed).
    if (HEX_TAG.test(key)) continue;
    const action = ACTIONS.get(key);
    if (action === 'X') continue;
    if (action === 'Z') {
      out[key] = '';
      continue;
    }
    const vr = vrOf(key, vrMap);
    if (vr === undefined) continue; // no dictionary entry: cannot be judged, removed
    if (vr === 'SQ') {
      const items = Array.isArray(value) ? value : value && typeof value === 'object' ? [value] : [];
      out[key] = items.map((item) => clean(item as Naturalized, { ...ctx, depth: ctx.depth + 1 }));
      continue;
    }
    if (vr === 'UI') {
      out[key] = mapValues(value, (u) => {
        const t = u.replace(/\0/g, '').trim();
        return t === '' || t.startsWith(STANDARD_UID_ROOT) ? t : ctx.map.uid(t);
      });
      continue;
    }
    if (vr === 'PN') {
      out[key] = '';
      continue;
    }
    if (vr === 'DA' || vr === 'DT') {
      out[key] = ctx.opts.modifiedDates ? mapValues(value, (s) => (s.trim() ? shiftDate(s, ctx.offsetDays) : '')) : '';
      continue;
    }
    if (vr === 'TM') {
      out[key] = ctx.opts.modifiedDates ? value : '';
      continue;
    }
    out[key] = value;
  }
  if (vrMap) {
    const kept = Object.fromEntries(Object.entries(vrMap).filter(([k]) => k in out));
    if (Object.keys(kept).length > 0) out._vrMap = kept;
  }
  return out;
}

/**
 * Type 1 attributes that the Basic Profile empties or removes, per SOP class, with the dummy each
 * gets instead: the Segmentation IOD's Multi-frame Functional Groups module needs ContentDate and
 * ContentTime (PS3.3 C.7.6.16) and its Enhanced General Equipment module DeviceSerialNumber
 * (C.7.5.2), which dciodvfy reports missing otherwise.
 */
const TYPE1_DUMMIES: ReadonlyMap<string, readonly [string, string][]> = new Map([
  ['1.2.840.10008.5.1.4.1.1.66.4', [['ContentDate', '19000101'], ['ContentTime', '000000'], ['DeviceSerialNumber', 'DEIDENTIFIED']] as const],
]);

/**
 * A de-identified copy of `dataset` (the input is not changed). Throws UnsupportedError when the
 * object declares burned-in annotation (0028,0301) YES and no person has overridden that, since the
 * Basic Profile does not clean pixels (the Clean Pixel Data Option is not claimed).
 */
export function deidentifyDataset(dataset: Naturalized, map: PseudonymMap, opts: DeidOptions = {}): Naturalized {
  const burned = String(dataset.BurnedInAnnotation ?? '').trim().toUpperCase();
  if (burned === 'YES' && !opts.allowBurnedInAnnotation) {
    throw new UnsupportedError(
      `${opts.label ?? 'object'} declares BurnedInAnnotation (0028,0301) YES: its pixels may show identifiers, which de-identification does not remove; refused (a person who checked the images may override)`,
    );
  }
  const patient = map.patient(String(dataset.PatientID ?? '').trim(), personName(dataset, 'PatientName').trim());
  const out = clean(dataset, { map, opts, offsetDays: patient.dateOffsetDays, depth: 0 });
  out.PatientName = [{ Alphabetic: patient.name }];
  out.PatientID = patient.id;
  if ('StructureSetLabel' in dataset) out.StructureSetLabel = 'DEIDENTIFIED';
  // Z/D and X/Z/D in Table E.1-1: a dummy value where the IOD makes the attribute Type 1.
  for (const [key, dummy] of TYPE1_DUMMIES.get(String(dataset.SOPClassUID ?? '').trim()) ?? []) {
    if (out[key] === undefined || String(out[key]).trim() === '') {
      out[key] = dummy;
    }
  }
  out.PatientIdentityRemoved = 'YES';
  out.DeidentificationMethod = `DICOM PS3.15 E.1 Basic Profile${opts.modifiedDates ? '; Modified Dates' : ''}`;
  out.DeidentificationMethodCodeSequence = [METHOD_CODES.basic, ...(opts.modifiedDates ? [METHOD_CODES.modifiedDates] : [])].map((c) => ({ ...c }));
  out.LongitudinalTemporalInformationModified = opts.modifiedDates ? 'MODIFIED' : 'REMOVED';
  return out;
}
