/** Hand-built CT series descriptions and independent checkers for RTSTRUCT tests. */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { readRtstruct } from '../../../electron/engine/rtstruct/read.js';
import { existsSync } from 'node:fs';
import { voxelToPatient, type Geometry } from '../../../electron/engine/volume/geometry.js';
import { newUid } from '../../../electron/engine/rtstruct/uid.js';
import { CT_IMAGE_STORAGE, type CtSeriesRef } from '../../../electron/engine/rtstruct/types.js';

export function handSeries(g: Geometry): CtSeriesRef {
  return {
    seriesInstanceUid: newUid(),
    studyInstanceUid: newUid(),
    frameOfReferenceUid: newUid(),
    header: {
      PatientName: [{ Alphabetic: 'Phantom^Ring' }],
      PatientID: 'PH-001',
      PatientBirthDate: '19700101',
      PatientSex: 'O',
      StudyDate: '20240102',
      StudyTime: '101500',
      StudyID: '1',
      AccessionNumber: 'A1',
      SpecificCharacterSet: 'ISO_IR 100',
    },
    instances: Array.from({ length: g.dims[2] }, (_, k) => ({
      sopInstanceUid: newUid(),
      sopClassUid: CT_IMAGE_STORAGE,
      position: voxelToPatient(g, [0, 0, k]),
    })),
    geometry: g,
  };
}

/** `dciodvfy -new FILE`: the Error lines (it writes every finding to stderr), or undefined when absent. */
export function dciodvfyErrors(file: string): { errors: string[]; warnings: string[] } | undefined {
  if (!existsSync('/usr/bin/dciodvfy')) return undefined;
  const r = spawnSync('/usr/bin/dciodvfy', ['-new', file], { encoding: 'utf8' });
  const lines = `${r.stderr}\n${r.stdout}`.split('\n');
  return { errors: lines.filter((l) => l.startsWith('Error')), warnings: lines.filter((l) => l.startsWith('Warning')) };
}

export interface PydicomSummary {
  rois: Array<{ name: string; number: number; contours: number; points: number; maxDsLen: number; refs: string[] }>;
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

/** Reads the file with pydicom (Debian's python3), independently of dcmjs. */
export function pydicomSummary(file: string): PydicomSummary | undefined {
  if (!existsSync('/usr/bin/python3')) return undefined;
  const script = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
names = {r.ROINumber: r.ROIName for r in ds.StructureSetROISequence}
rois = []
for rc in ds.ROIContourSequence:
    cs = rc.get('ContourSequence', [])
    maxlen = 0
    refs = []
    pts = 0
    elem_lens = []
    for c in cs:
        pts += int(c.NumberOfContourPoints)
        refs += [im.ReferencedSOPInstanceUID for im in c.get('ContourImageSequence', [])]
        # DSfloat keeps the string as written in original_string
        elem_lens += [len(getattr(x, 'original_string', None) or str(x)) for x in c.ContourData]
    rois.append(dict(name=names[rc.ReferencedROINumber], number=int(rc.ReferencedROINumber), contours=len(cs), points=pts, maxDsLen=max(elem_lens or [0]), refs=refs))
print(json.dumps(dict(rois=rois, sopInstanceUid=ds.SOPInstanceUID, seriesInstanceUid=ds.SeriesInstanceUID)))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' });
  if (r.status !== 0) {
    if (/No module named 'pydicom'/.test(r.stderr)) return undefined;
    throw new Error(`pydicom could not read ${file}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as PydicomSummary;
}

/** `dcentvfy FILE...`: patient/study/series consistency findings across files (undefined when absent). */
export function dcentvfyFindings(files: string[]): string[] | undefined {
  if (!existsSync('/usr/bin/dcentvfy')) return undefined;
  const r = spawnSync('/usr/bin/dcentvfy', files, { encoding: 'utf8' });
  return `${r.stderr}\n${r.stdout}`.split('\n').filter((l) => /^(Error|Warning)/.test(l));
}

/**
 * The independent checks every RTSTRUCT written in a test goes through: dciodvfy -new with 0 errors,
 * pydicom reads it with each contour's point count matching its data, and dcmjs (our reader) reads the
 * same ROI names. Returns pydicom's summary (undefined when pydicom is absent).
 */
export function checkWrittenRtstruct(t: TestContext, file: string): PydicomSummary | undefined {
  const v = dciodvfyErrors(file);
  if (v) assert.deepEqual(v.errors, [], `dciodvfy ${file}:\n${v.errors.join('\n')}`);
  else t.diagnostic('dciodvfy not installed: IOD check skipped');
  const ours = readRtstruct(file);
  const py = pydicomSummary(file);
  if (py) {
    assert.deepEqual(py.rois.map((r) => r.name), ours.structures.map((s) => s.name), 'pydicom and dcmjs read the same ROIs');
    assert.deepEqual(py.rois.map((r) => r.points), ours.structures.map((s) => s.contours.reduce((a, c) => a + c.points.length, 0)));
    for (const r of py.rois) assert.ok(r.maxDsLen <= 16, `${r.name}: a decimal string of ${r.maxDsLen} characters`);
  } else t.diagnostic('pydicom not available: independent read skipped');
  return py;
}
