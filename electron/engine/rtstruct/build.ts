/**
 * Builds the RT Structure Set IOD (PS3.3 A.19) as a naturalized dcmjs dataset: Patient and General
 * Study copied from the CT, RT Series, Frame of Reference, General Equipment, Structure Set (C.8.8.5), ROI Contour
 * (C.8.8.6), RT ROI Observations (C.8.8.8), SOP Common. No file is written here: write.ts runs the
 * pre-flight checks on this dataset first.
 */
import { maskToContours } from '../contours/mask-to-contours.js';
import { column, dot, type Vec3 } from '../volume/geometry.js';
import { formatDS } from './ds.js';
import type { Naturalized } from './dcmjs.js';
import { newUid } from './uid.js';
import {
  CT_IMAGE_STORAGE,
  RT_STRUCTURE_SET_STORAGE,
  STUDY_COMPONENT_SOP_CLASS,
  type BuiltRtstruct,
  type CtSeriesRef,
  type ExportedStructure,
  type Rgb,
  type RtstructOptions,
  type StructureInput,
} from './types.js';

const PATIENT_KEYS = ['PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientSex', 'PatientIdentityRemoved', 'DeidentificationMethod', 'DeidentificationMethodCodeSequence'];
const STUDY_KEYS = ['StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber', 'StudyDescription'];
/** Type 2 attributes of the modules above that must be present even when empty. */
const TYPE2 = ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber'];

export function parseColor(c: Rgb | string): Rgb {
  if (Array.isArray(c)) return c;
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c.trim());
  if (!m) return [NaN, NaN, NaN];
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

function dicomDate(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}

function dicomTime(d: Date): string {
  return d.toISOString().slice(11, 19).replace(/:/g, '');
}

function isEmptyValue(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Matches a ring to the CT slice whose plane it lies on (projection on the slice normal). */
export function sliceLocator(series: CtSeriesRef, toleranceMm: number): (points: Vec3[]) => number | undefined {
  const n = column(series.geometry.direction, 2);
  const zs = series.instances.map((inst) => dot(inst.position, n));
  return (points) => {
    if (points.length === 0) return undefined;
    const z = points.reduce((a, p) => a + dot(p, n), 0) / points.length;
    let best = -1;
    let bestD = Infinity;
    zs.forEach((zi, idx) => {
      const d = Math.abs(zi - z);
      if (d < bestD) {
        bestD = d;
        best = idx;
      }
    });
    if (best < 0 || bestD > toleranceMm) return undefined;
    // A loop, not Math.max(...): spreading a contour of ~10^5+ points overflows the call stack.
    let worst = 0;
    for (const p of points) worst = Math.max(worst, Math.abs(dot(p, n) - zs[best]!));
    return worst <= toleranceMm ? best : undefined;
  };
}

export function buildRtstruct(series: CtSeriesRef, structures: StructureInput[], opts: RtstructOptions = {}): BuiltRtstruct {
  const now = opts.now ?? new Date();
  const sopInstanceUid = newUid();
  const seriesInstanceUid = newUid();
  const warnings: string[] = [];
  const h = series.header;
  const ds: Naturalized = {
    // dcmjs decodes the CT's text by its character set but always encodes UTF-8 when writing, so the
    // file must declare UTF-8 (PS3.3 C.12.1.1.2); copying the CT's ISO_IR 100 garbled "Müller" in pydicom.
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: dicomDate(now),
    InstanceCreationTime: dicomTime(now),
    SOPClassUID: RT_STRUCTURE_SET_STORAGE,
    SOPInstanceUID: sopInstanceUid,
  };
  for (const k of [...PATIENT_KEYS, ...STUDY_KEYS]) {
    if (!isEmptyValue(h[k])) ds[k] = h[k];
    else if (TYPE2.includes(k)) ds[k] = '';
  }
  Object.assign(ds, {
    Modality: 'RTSTRUCT',
    Manufacturer: 'Delineate',
    ManufacturerModelName: 'Delineate',
    SoftwareVersions: '0.1.0',
    SeriesDescription: opts.seriesDescription ?? 'Delineate contours',
    OperatorsName: '',
    StudyInstanceUID: series.studyInstanceUid,
    SeriesInstanceUID: seriesInstanceUid,
    SeriesNumber: String(opts.seriesNumber ?? 901),
    InstanceNumber: '1',
    // Frame of Reference module (in the RT Structure Set IOD since PS3.3 2019; dciodvfy -new requires it).
    FrameOfReferenceUID: series.frameOfReferenceUid,
    PositionReferenceIndicator: isEmptyValue(h.PositionReferenceIndicator) ? '' : h.PositionReferenceIndicator,
    StructureSetLabel: opts.label ?? 'Delineate',
    StructureSetName: opts.name ?? opts.label ?? 'Delineate',
    StructureSetDate: dicomDate(now),
    StructureSetTime: dicomTime(now),
  });
  if (opts.description) ds.StructureSetDescription = opts.description;

  const imageRef = (idx: number): Naturalized => {
    const inst = series.instances[idx]!;
    return { ReferencedSOPClassUID: inst.sopClassUid || CT_IMAGE_STORAGE, ReferencedSOPInstanceUID: inst.sopInstanceUid };
  };
  ds.ReferencedFrameOfReferenceSequence = [
    {
      FrameOfReferenceUID: series.frameOfReferenceUid,
      RTReferencedStudySequence: [
        {
          ReferencedSOPClassUID: STUDY_COMPONENT_SOP_CLASS,
          ReferencedSOPInstanceUID: series.studyInstanceUid,
          RTReferencedSeriesSequence: [
            {
              SeriesInstanceUID: series.seriesInstanceUid,
              ContourImageSequence: series.instances.map((_, idx) => imageRef(idx)),
            },
          ],
        },
      ],
    },
  ];

  const locate = sliceLocator(series, opts.sliceToleranceMm ?? 0.05);
  const roiSeq: Naturalized[] = [];
  const contourSeq: Naturalized[] = [];
  const obsSeq: Naturalized[] = [];
  const exported: ExportedStructure[] = [];
  for (const s of structures) {
    const rings: Vec3[][] = s.contours ?? (s.mask ? maskToContours(s.mask, series.geometry, { simplifyMm: opts.simplifyMm ?? 0 }).map((c) => c.points) : []);
    if (rings.length === 0) {
      warnings.push(`structure ${s.name} is empty: left out of the structure set`);
      continue;
    }
    const roiNumber = roiSeq.length + 1;
    const items: Naturalized[] = [];
    let points = 0;
    rings.forEach((ring, idx) => {
      const slice = locate(ring);
      const item: Naturalized = {};
      // ContourImageSequence is only written when the ring lies on a CT slice; pre-flight refuses the rest.
      if (slice !== undefined) item.ContourImageSequence = [imageRef(slice)];
      item.ContourGeometricType = 'CLOSED_PLANAR';
      item.NumberOfContourPoints = String(ring.length);
      item.ContourNumber = String(idx + 1);
      item.ContourData = ring.flatMap((p) => p.map((v) => formatDS(v)));
      items.push(item);
      points += ring.length;
    });
    roiSeq.push({
      ROINumber: String(roiNumber),
      ReferencedFrameOfReferenceUID: series.frameOfReferenceUid,
      ROIName: s.name,
      ...(s.description ? { ROIDescription: s.description } : {}),
      ROIGenerationAlgorithm: s.generationAlgorithm ?? 'AUTOMATIC',
      ...(s.generationDescription ? { ROIGenerationDescription: s.generationDescription } : {}),
    });
    contourSeq.push({ ROIDisplayColor: parseColor(s.color).map((v) => String(v)), ReferencedROINumber: String(roiNumber), ContourSequence: items });
    obsSeq.push({
      ObservationNumber: String(roiNumber),
      ReferencedROINumber: String(roiNumber),
      ROIObservationLabel: s.name,
      RTROIInterpretedType: s.interpretedType ?? 'ORGAN',
      ROIInterpreter: '',
    });
    exported.push({ name: s.name, roiNumber, contours: rings.length, points });
  }
  ds.StructureSetROISequence = roiSeq;
  ds.ROIContourSequence = contourSeq;
  ds.RTROIObservationsSequence = obsSeq;
  return { dataset: ds, sopInstanceUid, seriesInstanceUid, structures: exported, warnings };
}
