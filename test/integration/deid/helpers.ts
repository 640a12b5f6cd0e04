/**
 * Shared by the de-identification tests: a phantom that carries identifying attributes (names, IDs,
 * dates, accession, institution, station, a private tag), the CLI, and the byte scan of every output
 * file for the source's identifiers and UIDs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readPart10, seqOf, strOf, type Naturalized } from '../../../electron/engine/rtstruct/dcmjs.js';
import { writePhantomSeries, type PhantomSeries } from '../../fixtures/phantom/phantom.js';
import { rewrite, writeRtstructFor } from '../../fixtures/phantom/variants.js';
import { cliProcess } from '../../helpers/cli.js';

export const IDENTIFYING = {
  PatientName: 'Grindelwald^Augusta',
  PatientID: 'MRN-55012347',
  PatientBirthDate: '19610317',
  StudyDate: '20240611',
  SeriesDate: '20240612',
  ContentDate: '20240613',
  AccessionNumber: 'ACC7734521',
  InstitutionName: 'Riverside Oncology Centre',
  InstitutionAddress: '12 Quayside Lane, Porthaven',
  StationName: 'CTSIM-RIVERSIDE-01',
  OperatorsName: 'Technologist^Alicia',
  ReferringPhysicianName: 'Consultant^Bartholomew',
  StudyDescription: 'Augusta thorax planning',
  DeviceSerialNumber: 'SN-99887766',
  OtherPatientIDs: 'NHS-4857773456',
};

/** bin/delineate.js in a child process (test/helpers/cli.ts). */
export const cli = cliProcess;

export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

/** Every UID-looking value and every string attribute value of the source objects, recursively. */
export function sourceIdentifiers(files: string[]): Set<string> {
  const out = new Set<string>();
  const walk = (d: Naturalized): void => {
    for (const [k, v] of Object.entries(d)) {
      if (k === 'SOPInstanceUID' || k === 'SeriesInstanceUID' || k === 'StudyInstanceUID' || k === 'FrameOfReferenceUID' || k === 'ReferencedSOPInstanceUID') {
        const s = strOf(d, k);
        if (s && !s.startsWith('1.2.840.10008.')) out.add(s);
      }
      if (Array.isArray(v) && v.some((x) => x && typeof x === 'object' && !(x instanceof ArrayBuffer) && !('Alphabetic' in x))) for (const item of seqOf(d, k)) walk(item);
    }
  };
  for (const f of files) walk(readPart10(f).dataset);
  return out;
}

/**
 * Scans every byte of every output file for every needle (latin1 and UTF-8 are the same for these
 * ASCII needles); gzip files (NIfTI .nii.gz) are scanned decompressed as well.
 */
export function assertNoneIn(files: string[], needles: Iterable<string>): number {
  const blobs = files.flatMap((f) => {
    const raw = readFileSync(f);
    const texts = [{ f, text: raw.toString('latin1') }];
    if (raw[0] === 0x1f && raw[1] === 0x8b) texts.push({ f: `${f} (decompressed)`, text: gunzipSync(raw).toString('latin1') });
    return texts;
  });
  let n = 0;
  for (const needle of needles) {
    if (needle.trim().length < 4) continue;
    n++;
    for (const { f, text } of blobs) assert.ok(!text.includes(needle), `${f} still holds '${needle}'`);
  }
  return n;
}

export function dciodvfyErrors(file: string): string[] {
  const r = spawnSync('dciodvfy', ['-new', file], { encoding: 'utf8' });
  return `${r.stderr}`.split('\n').filter((l) => l.startsWith('Error - '));
}

export function hasDciodvfy(): boolean {
  return spawnSync('dciodvfy', ['-version'], { encoding: 'utf8' }).error === undefined;
}

export function identifiedPhantom(dir: string, extra: Record<string, unknown> = {}): PhantomSeries {
  const { PatientName, PatientID, ...rest } = IDENTIFYING;
  const ph = writePhantomSeries(join(dir, 'ct'), {
    seed: 'deid', columns: 24, rows: 20, slices: 6, patientName: PatientName, patientId: PatientID,
    // The CT Image IOD's Type 2 attributes the plain phantom lacks, so the source is dciodvfy-clean too.
    extra: { Laterality: '', PositionReferenceIndicator: '', KVP: '120', AcquisitionNumber: '1', ...rest, ReferringPhysicianName: [{ Alphabetic: IDENTIFYING.ReferringPhysicianName }], OperatorsName: [{ Alphabetic: IDENTIFYING.OperatorsName }], ...extra },
  });
  // A private creator and element (PS3.5 7.8.1).
  for (const f of ph.files) {
    rewrite(f.path, f.path, (dict) => {
      dict['00090010'] = { vr: 'LO', Value: ['ACME PRIVATE'] };
      dict['00091001'] = { vr: 'LO', Value: ['PRIVATE-SECRET-4711'] };
    });
  }
  writeRtstructFor(ph, join(dir, 'ct', 'rs.dcm'));
  return ph;
}

