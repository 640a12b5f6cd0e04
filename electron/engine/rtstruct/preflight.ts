/**
 * TPS-safety checks on a built RT Structure Set, before any byte is written. Each problem names the
 * structure and the check. They cover what planning systems are known to reject and what dciodvfy
 * does not check (NOTES.md): a missing ReferencedFrameOfReferenceSequence, ContourData whose length is
 * not a multiple of 3, NumberOfContourPoints disagreeing with the data.
 * References: PS3.3 C.8.8.5 (Structure Set), C.8.8.6 (ROI Contour), C.8.8.8 (RT ROI Observations),
 * PS3.5 6.2 (DS <= 16 bytes, SH <= 16, LO <= 64 characters), 9.1 (UIDs).
 */
import { isValidDS } from './ds.js';
import { numsOf, seqOf, strOf, type Naturalized } from './dcmjs.js';
import { sliceLocator } from './build.js';
import { isValidUid } from './uid.js';
import { RT_STRUCTURE_SET_STORAGE, type CtSeriesRef, type PreflightProblem } from './types.js';
import type { Vec3 } from '../volume/geometry.js';

/** RT ROI Interpreted Type defined terms (PS3.3 C.8.8.8.1). */
export const INTERPRETED_TYPES = new Set([
  'EXTERNAL', 'PTV', 'CTV', 'GTV', 'TREATED_VOLUME', 'IRRAD_VOLUME', 'OAR', 'BOLUS', 'AVOIDANCE', 'ORGAN', 'MARKER',
  'REGISTRATION', 'ISOCENTER', 'CONTRAST_AGENT', 'CAVITY', 'BRACHY_CHANNEL', 'BRACHY_ACCESSORY', 'BRACHY_SRC_APP',
  'BRACHY_CHNL_SHLD', 'SUPPORT', 'FIXATION', 'DOSE_REGION', 'CONTROL', 'DOSE_MEASUREMENT',
]);

export interface PreflightOptions {
  sliceToleranceMm?: number;
  /** UIDs already used by earlier exports (the exports log): a reused UID is refused. */
  usedUids?: ReadonlySet<string>;
}

export function preflight(ds: Naturalized, series: CtSeriesRef, opts: PreflightOptions = {}): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  const err = (check: string, message: string, structure?: string): void => {
    problems.push({ severity: 'error', check, message, ...(structure !== undefined ? { structure } : {}) });
  };
  const warn = (check: string, message: string, structure?: string): void => {
    problems.push({ severity: 'warning', check, message, ...(structure !== undefined ? { structure } : {}) });
  };

  // Identity: fresh, valid UIDs that collide with nothing in the referenced series.
  const ctUids = new Set(series.instances.map((i) => i.sopInstanceUid));
  if (strOf(ds, 'SOPClassUID') !== RT_STRUCTURE_SET_STORAGE) err('sop-class', `SOPClassUID is not RT Structure Set Storage`);
  for (const key of ['SOPInstanceUID', 'SeriesInstanceUID', 'StudyInstanceUID']) {
    const uid = strOf(ds, key);
    if (!isValidUid(uid)) err('uid', `${key} "${uid}" is not a valid UID`);
  }
  const sop = strOf(ds, 'SOPInstanceUID');
  const ser = strOf(ds, 'SeriesInstanceUID');
  if (ctUids.has(sop) || sop === series.seriesInstanceUid || opts.usedUids?.has(sop)) err('uid-reuse', `SOPInstanceUID ${sop} is already in use`);
  if (ser === series.seriesInstanceUid || opts.usedUids?.has(ser)) err('uid-reuse', `SeriesInstanceUID ${ser} is already in use`);
  if (strOf(ds, 'StudyInstanceUID') !== series.studyInstanceUid) err('study', 'StudyInstanceUID differs from the CT study');
  if (strOf(ds, 'Modality') !== 'RTSTRUCT') err('modality', 'Modality is not RTSTRUCT');
  if (strOf(ds, 'PatientID') === '') warn('patient-id', 'the CT has no PatientID: the TPS may not match the structure set to a patient');
  const label = strOf(ds, 'StructureSetLabel');
  if (label === '' || label.length > 16) err('label', `StructureSetLabel "${label}" must be 1-16 characters`);
  for (const key of ['StructureSetDate', 'StructureSetTime']) if (strOf(ds, key) === '') err('date', `${key} is empty`);

  // Frame of reference and the study/series/image hierarchy.
  const forUid = series.frameOfReferenceUid;
  if (!isValidUid(forUid)) err('frame-of-reference', `the CT series has no valid FrameOfReferenceUID ("${forUid}")`);
  const rfor = seqOf(ds, 'ReferencedFrameOfReferenceSequence');
  if (rfor.length !== 1) err('frame-of-reference', `ReferencedFrameOfReferenceSequence has ${rfor.length} items, expected 1`);
  const refImages = new Set<string>();
  for (const f of rfor) {
    if (strOf(f, 'FrameOfReferenceUID') !== forUid) err('frame-of-reference', 'ReferencedFrameOfReferenceSequence names another frame of reference than the CT');
    const studies = seqOf(f, 'RTReferencedStudySequence');
    if (studies.length !== 1 || strOf(studies[0]!, 'ReferencedSOPInstanceUID') !== series.studyInstanceUid) {
      err('hierarchy', 'RTReferencedStudySequence must name exactly the CT study');
    }
    for (const st of studies) {
      const sers = seqOf(st, 'RTReferencedSeriesSequence');
      if (sers.length !== 1 || strOf(sers[0]!, 'SeriesInstanceUID') !== series.seriesInstanceUid) {
        err('hierarchy', 'RTReferencedSeriesSequence must name exactly the CT series');
      }
      for (const se of sers) for (const im of seqOf(se, 'ContourImageSequence')) refImages.add(strOf(im, 'ReferencedSOPInstanceUID'));
    }
  }
  for (const uid of refImages) if (!ctUids.has(uid)) err('hierarchy', `ContourImageSequence references ${uid}, not a slice of the CT series`);

  // ROIs: numbers, names, frame of reference, generation algorithm.
  const rois = seqOf(ds, 'StructureSetROISequence');
  if (rois.length === 0) err('empty', 'the structure set has no ROI with contours');
  const nameOf = new Map<string, string>();
  const seenNames = new Set<string>();
  for (const r of rois) {
    const num = strOf(r, 'ROINumber');
    const name = strOf(r, 'ROIName');
    if (nameOf.has(num)) err('roi-number', `ROINumber ${num} is used twice`, name);
    nameOf.set(num, name);
    if (name === '' || name.length > 16) err('name', `ROIName "${name}" must be 1-16 characters (Eclipse truncates or rejects longer names)`, name);
    if (name.includes('\\')) err('name', `ROIName "${name}" contains a backslash`, name);
    if (seenNames.has(name.toUpperCase())) err('name', `ROIName "${name}" is not unique`, name);
    seenNames.add(name.toUpperCase());
    if (!/^[A-Za-z0-9_~^+-]+$/.test(name)) warn('tg263', `ROIName "${name}" has characters outside the TG-263 set`, name);
    if (strOf(r, 'ReferencedFrameOfReferenceUID') !== forUid) err('frame-of-reference', 'ROI frame of reference differs from the CT', name);
    if (!['AUTOMATIC', 'SEMIAUTOMATIC', 'MANUAL'].includes(strOf(r, 'ROIGenerationAlgorithm'))) err('algorithm', 'ROIGenerationAlgorithm must be AUTOMATIC, SEMIAUTOMATIC or MANUAL', name);
    if (strOf(r, 'ROIGenerationDescription').length > 64) err('algorithm', 'ROIGenerationDescription is longer than 64 characters', name);
  }

  // Contours: colour, geometry, counts, decimal strings, slice references.
  const locate = sliceLocator(series, opts.sliceToleranceMm ?? 0.05);
  const contoured = new Set<string>();
  for (const rc of seqOf(ds, 'ROIContourSequence')) {
    const num = strOf(rc, 'ReferencedROINumber');
    const name = nameOf.get(num);
    if (name === undefined) {
      err('roi-number', `ROIContourSequence references ROI ${num}, which is not in StructureSetROISequence`);
      continue;
    }
    if (contoured.has(num)) err('roi-number', 'two ROIContourSequence items for one ROI', name);
    contoured.add(num);
    const color = numsOf(rc, 'ROIDisplayColor');
    if (color.length !== 3 || color.some((c) => !Number.isInteger(c) || c < 0 || c > 255)) err('color', `ROIDisplayColor ${JSON.stringify(color)} is not three integers 0-255`, name);
    const contours = seqOf(rc, 'ContourSequence');
    if (contours.length === 0) err('contours', 'no contours', name);
    contours.forEach((c, idx) => {
      const where = `contour ${idx + 1}`;
      const type = strOf(c, 'ContourGeometricType');
      if (type !== 'CLOSED_PLANAR') err('geometry', `${where}: ContourGeometricType ${type}, expected CLOSED_PLANAR`, name);
      const raw = c.ContourData;
      const values = (Array.isArray(raw) ? raw : [raw]).map((v) => String(v ?? ''));
      if (values.length % 3 !== 0) err('contour-data', `${where}: ContourData has ${values.length} values, not a multiple of 3`, name);
      const bad = values.find((v) => !isValidDS(v));
      if (bad !== undefined) err('decimal-string', `${where}: ContourData value "${bad}" is not a decimal string of at most 16 characters`, name);
      const n = Number(strOf(c, 'NumberOfContourPoints'));
      if (n !== Math.floor(values.length / 3)) err('point-count', `${where}: NumberOfContourPoints ${n} but ContourData holds ${values.length / 3} points`, name);
      if (type === 'CLOSED_PLANAR' && values.length < 9) err('degenerate', `${where}: ${values.length / 3} points, a closed contour needs at least 3`, name);
      const pts: Vec3[] = [];
      for (let i = 0; i + 2 < values.length; i += 3) pts.push([Number(values[i]), Number(values[i + 1]), Number(values[i + 2])]);
      if (pts.some((p) => p.some((v) => !Number.isFinite(v)))) return;
      const slice = locate(pts);
      if (slice === undefined) {
        err('slice', `${where}: its points do not all lie on one CT slice of the series`, name);
        return;
      }
      const refs = seqOf(c, 'ContourImageSequence');
      const expected = series.instances[slice]!.sopInstanceUid;
      if (refs.length !== 1) err('image-ref', `${where}: ContourImageSequence has ${refs.length} items, expected 1`, name);
      else if (strOf(refs[0]!, 'ReferencedSOPInstanceUID') !== expected) err('image-ref', `${where}: ContourImageSequence does not reference the slice the contour lies on`, name);
      else if (!refImages.has(expected)) err('image-ref', `${where}: its slice is missing from the referenced series' ContourImageSequence`, name);
    });
  }
  for (const [num, name] of nameOf) if (!contoured.has(num)) err('contours', 'ROI has no ROIContourSequence item', name);

  // Observations: one per ROI, interpreted type from the defined terms.
  const observed = new Set<string>();
  for (const o of seqOf(ds, 'RTROIObservationsSequence')) {
    const num = strOf(o, 'ReferencedROINumber');
    const name = nameOf.get(num);
    if (name === undefined) {
      err('observations', `RTROIObservationsSequence references ROI ${num}, which does not exist`);
      continue;
    }
    observed.add(num);
    const t = strOf(o, 'RTROIInterpretedType');
    if (!INTERPRETED_TYPES.has(t)) err('interpreted-type', `RT ROI Interpreted Type "${t}" is not a defined term`, name);
  }
  for (const [num, name] of nameOf) if (!observed.has(num)) err('observations', 'ROI has no RTROIObservationsSequence item', name);
  return problems;
}

/** One line per problem, for error messages and logs. */
export function formatProblems(problems: PreflightProblem[]): string {
  return problems.map((p) => `${p.severity}: ${p.structure ? `${p.structure}: ` : ''}${p.message} [${p.check}]`).join('\n');
}
