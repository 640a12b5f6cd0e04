/**
 * DICOM Segmentation (PS3.3 A.51, SOP Class 1.2.840.10008.5.1.4.1.1.66.4), BINARY, from masks on a
 * CT series grid, as a naturalized dcmjs dataset: Patient / General Study copied from the CT,
 * Segmentation Series, Frame of Reference, General + Enhanced General Equipment, Segmentation Image
 * (C.8.20.2) with one SegmentSequence item per structure, Multi-frame Functional Groups (C.7.6.16:
 * shared plane orientation and pixel measures; per frame the derivation image, frame content,
 * plane position and segment identification), Multi-frame Dimension (C.7.6.17: segment number,
 * then image position), Common Instance Reference (C.12.2) and SOP Common.
 *
 * One frame per (segment, slice holding any of its voxels), in segment then slice order. BINARY
 * pixels are packed one bit per pixel, the first pixel in the least significant bit, frames one after
 * another without padding (PS3.5 8.1.1; PS3.3 C.8.20.2.1), the whole padded to an even length.
 */
import { column, type Vec3 } from '../volume/geometry.js';
import type { Geometry } from '../volume/geometry.js';
import type { Naturalized } from '../rtstruct/dcmjs.js';
import { formatDS } from '../rtstruct/ds.js';
import { newUid } from '../rtstruct/uid.js';
import { parseColor } from '../rtstruct/build.js';
import { InputError } from '../errors.js';

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

/** Tags as AT values (group << 16 | element), as dcmjs writes them. */
const TAG = {
  ReferencedSegmentNumber: 0x0062000b,
  SegmentIdentificationSequence: 0x0062000a,
  ImagePositionPatient: 0x00200032,
  PlanePositionSequence: 0x00209113,
};

export interface SegSeries {
  seriesInstanceUid: string;
  studyInstanceUid: string;
  frameOfReferenceUid: string;
  /** The first CT file's dataset: patient and study attributes are copied from it. */
  header: Naturalized;
  /** CT instances by slice index on the grid (undefined where the grid slice was interpolated). */
  instances: ({ sopInstanceUid: string; sopClassUid: string } | undefined)[];
  geometry: Geometry;
}

export interface SegSegment {
  name: string;
  mask: Uint8Array;
  color?: string;
  /** AUTOMATIC (computed) or SEMIAUTOMATIC (edited by a person), PS3.3 C.8.20.2 Segment Algorithm Type. */
  algorithmType: 'AUTOMATIC' | 'SEMIAUTOMATIC';
  algorithmName: string;
}

export interface BuiltSeg {
  dataset: Naturalized;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  segments: { number: number; name: string; frames: number }[];
}

const PATIENT_KEYS = ['PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientSex', 'PatientIdentityRemoved', 'DeidentificationMethod'];
const STUDY_KEYS = ['StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber', 'StudyDescription'];
const TYPE2 = new Set(['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber']);

const code = (value: string, scheme: string, meaning: string): Naturalized => ({ CodeValue: value, CodingSchemeDesignator: scheme, CodeMeaning: meaning });

/** sRGB (0-255) to DICOM CIELab (PS3.3 C.10.7.1.1: L* 0..100, a*, b* -128..127, scaled to 0..65535), D65. */
export function rgbToDicomLab(rgb: [number, number, number]): [number, number, number] {
  const lin = rgb.map((c) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047;
  const y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  const z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883;
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const L = 116 * f(y) - 16;
  const a = 500 * (f(x) - f(y));
  const b = 200 * (f(y) - f(z));
  const clamp = (v: number): number => Math.max(0, Math.min(65535, Math.round(v)));
  return [clamp((L * 65535) / 100), clamp(((a + 128) * 65535) / 255), clamp(((b + 128) * 65535) / 255)];
}

function dicomDate(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}
function dicomTime(d: Date): string {
  return d.toISOString().slice(11, 19).replace(/:/g, '');
}

export function buildSeg(series: SegSeries, segments: SegSegment[], opts: { now?: Date; seriesNumber?: number; description?: string } = {}): BuiltSeg {
  const g = series.geometry;
  const [nx, ny, nz] = g.dims;
  const perSlice = nx * ny;
  if (segments.length === 0) throw new InputError(`no segments to write for series ${series.seriesInstanceUid}`, { seriesUid: series.seriesInstanceUid });
  const now = opts.now ?? new Date();
  const sopInstanceUid = newUid();
  const seriesInstanceUid = newUid();
  const h = series.header;
  const ds: Naturalized = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: dicomDate(now),
    InstanceCreationTime: dicomTime(now),
  };
  for (const k of [...PATIENT_KEYS, ...STUDY_KEYS]) {
    const v = h[k];
    if (v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0)) ds[k] = v;
    else if (TYPE2.has(k)) ds[k] = '';
  }
  const iop = [...column(g.direction, 0), ...column(g.direction, 1)];
  const normal = column(g.direction, 2);
  const positionOf = (k: number): Vec3 => [0, 1, 2].map((a) => g.origin[a]! + k * g.spacing[2] * normal[a]!) as Vec3;

  // Frames: for each segment, every slice that holds any of its voxels.
  const frames: { segment: number; k: number; data: Uint8Array }[] = [];
  const summary: BuiltSeg['segments'] = [];
  segments.forEach((s, i) => {
    if (s.mask.length !== perSlice * nz) {
      throw new InputError(`mask of ${s.name} has ${s.mask.length} voxels; series ${series.seriesInstanceUid} has ${perSlice * nz}`, { structure: s.name });
    }
    let n = 0;
    for (let k = 0; k < nz; k++) {
      const slice = s.mask.subarray(k * perSlice, (k + 1) * perSlice);
      if (slice.some((v) => v !== 0)) {
        frames.push({ segment: i + 1, k, data: slice });
        n++;
      }
    }
    summary.push({ number: i + 1, name: s.name, frames: n });
  });
  if (frames.length === 0) throw new InputError(`every mask of series ${series.seriesInstanceUid} is empty: a Segmentation needs at least one frame`, { seriesUid: series.seriesInstanceUid });

  const bits = frames.length * perSlice;
  const pixels = new Uint8Array(Math.ceil(Math.ceil(bits / 8) / 2) * 2);
  frames.forEach((f, fi) => {
    const base = fi * perSlice;
    for (let p = 0; p < perSlice; p++) if (f.data[p]) pixels[(base + p) >> 3]! |= 1 << ((base + p) & 7);
  });

  const dimensionUid = newUid();
  const ctClass = (k: number): { sopInstanceUid: string; sopClassUid: string } | undefined => series.instances[k];
  Object.assign(ds, {
    Modality: 'SEG',
    SeriesInstanceUID: seriesInstanceUid,
    SeriesNumber: String(opts.seriesNumber ?? 902),
    SeriesDescription: opts.description ?? 'Delineate segmentation',
    StudyInstanceUID: series.studyInstanceUid,
    FrameOfReferenceUID: series.frameOfReferenceUid,
    PositionReferenceIndicator: typeof h.PositionReferenceIndicator === 'string' ? h.PositionReferenceIndicator : '',
    Manufacturer: 'Delineate',
    ManufacturerModelName: 'Delineate',
    DeviceSerialNumber: '1',
    SoftwareVersions: '0.1.0',
    InstanceNumber: '1',
    ContentDate: dicomDate(now),
    ContentTime: dicomTime(now),
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: 'DELINEATE',
    ContentDescription: opts.description ?? 'Delineate segmentation',
    ContentCreatorName: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: ny,
    Columns: nx,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    NumberOfFrames: String(frames.length),
    SegmentSequence: segments.map((s, i) => ({
      SegmentNumber: i + 1,
      SegmentLabel: s.name,
      // Generic anatomy codes (SNOMED CT): the label carries the TG-263 name; PS3.16 CID 7150 / 7151.
      SegmentedPropertyCategoryCodeSequence: [code('123037004', 'SCT', 'Anatomical Structure')],
      SegmentedPropertyTypeCodeSequence: [code('91723000', 'SCT', 'Anatomical Structure')],
      SegmentAlgorithmType: s.algorithmType,
      SegmentAlgorithmName: s.algorithmName,
      ...(s.color ? { RecommendedDisplayCIELabValue: rgbToDicomLab(parseColor(s.color) as [number, number, number]) } : {}),
    })),
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionUid }],
    DimensionIndexSequence: [
      { DimensionOrganizationUID: dimensionUid, DimensionIndexPointer: TAG.ReferencedSegmentNumber, FunctionalGroupPointer: TAG.SegmentIdentificationSequence, DimensionDescriptionLabel: 'Segment Number' },
      { DimensionOrganizationUID: dimensionUid, DimensionIndexPointer: TAG.ImagePositionPatient, FunctionalGroupPointer: TAG.PlanePositionSequence, DimensionDescriptionLabel: 'Image Position Patient' },
    ],
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [{ ImageOrientationPatient: iop.map((v) => formatDS(v)) }],
        // PixelSpacing is row spacing (between rows, along j) then column spacing (PS3.3 10.7.1.3).
        PixelMeasuresSequence: [{ PixelSpacing: [formatDS(g.spacing[1]), formatDS(g.spacing[0])], SliceThickness: formatDS(g.spacing[2]) }],
      },
    ],
    PerFrameFunctionalGroupsSequence: frames.map((f) => {
      const src = ctClass(f.k);
      return {
        ...(src
          ? {
              DerivationImageSequence: [
                {
                  SourceImageSequence: [
                    {
                      ReferencedSOPClassUID: src.sopClassUid || CT_IMAGE_STORAGE,
                      ReferencedSOPInstanceUID: src.sopInstanceUid,
                      PurposeOfReferenceCodeSequence: [code('121322', 'DCM', 'Source image for image processing operation')],
                    },
                  ],
                  DerivationCodeSequence: [code('113076', 'DCM', 'Segmentation')],
                },
              ],
            }
          : {}),
        FrameContentSequence: [{ DimensionIndexValues: [f.segment, f.k + 1] }],
        PlanePositionSequence: [{ ImagePositionPatient: positionOf(f.k).map((v) => formatDS(v)) }],
        SegmentIdentificationSequence: [{ ReferencedSegmentNumber: f.segment }],
      };
    }),
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: series.seriesInstanceUid,
        ReferencedInstanceSequence: series.instances
          .filter((x): x is { sopInstanceUid: string; sopClassUid: string } => x !== undefined)
          .map((x) => ({ ReferencedSOPClassUID: x.sopClassUid || CT_IMAGE_STORAGE, ReferencedSOPInstanceUID: x.sopInstanceUid })),
      },
    ],
    PixelData: [pixels.buffer],
    _vrMap: { PixelData: 'OB' },
  });
  return { dataset: ds, sopInstanceUid, seriesInstanceUid, segments: summary };
}
