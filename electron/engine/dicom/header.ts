/**
 * Header-only indexing: read a file, parse up to PixelData, and classify it as an image slice, a
 * non-image RT/SEG object (indexed with the series it references), or something to skip with a
 * reason (DICOMDIR, multi-frame, unsupported transfer syntax, no geometry, ...). Nothing here throws
 * for a bad file: the caller gets `{kind: 'skip', reason}`.
 */
import type { DataSet } from 'dicom-parser';
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import type { Vec3 } from '../volume/geometry.js';
import { decodeText, encodingFor } from './charset.js';
import { describeThrown, parseDicomBytes } from './parse.js';
import { isSupportedTransferSyntax, pixelEncoding, transferSyntaxName } from './transfer-syntax.js';

export interface ImageHeader {
  kind: 'image';
  path: string;
  size: number;
  mtimeMs: number;
  transferSyntax: string;
  sopClassUid: string;
  sopInstanceUid: string;
  studyUid: string;
  seriesUid: string;
  frameOfReferenceUid: string;
  /** Which of the UIDs above were missing or empty in the file and were generated. */
  generatedUids: string[];
  modality: string;
  patientId: string;
  patientName: string;
  birthDate: string;
  sex: string;
  studyDate: string;
  studyTime: string;
  studyDescription: string;
  accession: string;
  studyId: string;
  seriesDescription: string;
  seriesNumber: string;
  seriesDate: string;
  instanceNumber: number | null;
  position: Vec3 | null;
  orientation: [number, number, number, number, number, number] | null;
  /** [row spacing, column spacing] as in PixelSpacing (0028,0030). */
  pixelSpacing: [number, number] | null;
  rows: number;
  columns: number;
  imageType: string[];
  /** AcquisitionNumber, TemporalPositionIdentifier, TriggerTime: what tells 4D phases apart. */
  phaseKey: string;
  gantryTilt: number;
}

export interface ObjectHeader {
  kind: 'object';
  path: string;
  sopInstanceUid: string;
  sopClassUid: string;
  modality: string;
  studyUid: string;
  seriesUid: string;
  frameOfReferenceUid: string;
  referencedSeriesUid: string | null;
  label: string;
}

export type FileHeader = ImageHeader | ObjectHeader | { kind: 'skip'; path: string; reason: string };

const DICOMDIR_CLASS = '1.2.840.10008.1.3.10';
const ENHANCED_CLASSES: Record<string, string> = {
  '1.2.840.10008.5.1.4.1.1.2.1': 'Enhanced CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.2.2': 'Legacy Converted Enhanced CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.4.1': 'Enhanced MR Image Storage',
  '1.2.840.10008.5.1.4.1.1.130': 'Enhanced PET Image Storage',
};
const OBJECT_MODALITIES = new Set(['RTSTRUCT', 'RTDOSE', 'RTPLAN', 'RTIMAGE', 'SEG', 'REG', 'RTRECORD']);
const OBJECT_CLASSES: Record<string, string> = {
  '1.2.840.10008.5.1.4.1.1.481.3': 'RTSTRUCT',
  '1.2.840.10008.5.1.4.1.1.481.2': 'RTDOSE',
  '1.2.840.10008.5.1.4.1.1.481.5': 'RTPLAN',
  '1.2.840.10008.5.1.4.1.1.481.8': 'RTPLAN',
  '1.2.840.10008.5.1.4.1.1.66.4': 'SEG',
  '1.2.840.10008.5.1.4.1.1.66.1': 'REG',
};

function str(ds: DataSet, tag: string): string {
  try {
    return (ds.string(tag) ?? '').replace(/\0/g, '').trim();
  } catch {
    return '';
  }
}

function nums(ds: DataSet, tag: string, n: number): number[] | null {
  const s = str(ds, tag);
  if (!s) return null;
  const v = s.split('\\').map((x) => Number(x.trim()));
  if (v.length < n || v.slice(0, n).some((x) => !Number.isFinite(x))) return null;
  return v.slice(0, n);
}

function us(ds: DataSet, tag: string): number {
  try {
    return ds.uint16(tag) ?? 0;
  } catch {
    return 0;
  }
}

/** The SeriesInstanceUID of the first item reached along a path of nested sequences. */
function nestedUid(ds: DataSet, path: string[], leaf: string): string {
  let sets: DataSet[] = [ds];
  for (const tag of path) {
    const next: DataSet[] = [];
    for (const s of sets) for (const item of s.elements[tag]?.items ?? []) if (item.dataSet) next.push(item.dataSet);
    sets = next;
  }
  for (const s of sets) {
    const v = str(s, leaf);
    if (v) return v;
  }
  return '';
}

/** Which series an RT or SEG object refers to, by the references the standard defines for it. */
function referencedSeries(ds: DataSet): string | null {
  // RTSTRUCT: PS3.3 C.8.8.5, Referenced Frame of Reference > RT Referenced Study > RT Referenced Series.
  const rt = nestedUid(ds, ['x30060010', 'x30060012', 'x30060014'], 'x0020000e');
  if (rt) return rt;
  // SEG and others: Referenced Series Sequence (0008,1115) (PS3.3 C.7.6.16, C.8.20.1).
  const ref = nestedUid(ds, ['x00081115'], 'x0020000e');
  return ref || null;
}

/** A stable UID under 2.25 derived from the given attribute values (PS3.5 B.2). */
export function derivedUid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0001')).digest('hex').slice(0, 30);
  return `2.25.${BigInt(`0x${h}`).toString()}`;
}

const UID_RE = /^[0-9]+(\.[0-9]+)*$/;

function uidOrEmpty(v: string): string {
  return v.length > 0 && v.length <= 64 && UID_RE.test(v) ? v : '';
}

export function readHeader(path: string, bytes: Uint8Array, size: number, mtimeMs: number): FileHeader {
  let ds: DataSet;
  let transferSyntax: string;
  try {
    ({ dataSet: ds, transferSyntax } = parseDicomBytes(bytes, path, { headerOnly: true }));
  } catch (e) {
    return { kind: 'skip', path, reason: e instanceof InputError ? e.message : describeThrown(e) };
  }
  const skip = (reason: string): FileHeader => ({ kind: 'skip', path, reason: `${reason}: ${path}` });
  const mediaClass = str(ds, 'x00020002');
  const sopClassUid = str(ds, 'x00080016') || mediaClass;
  if (mediaClass === DICOMDIR_CLASS || sopClassUid === DICOMDIR_CLASS || ds.elements.x00041220) {
    return skip('DICOMDIR (a media directory, not an image; its files are scanned directly)');
  }
  const modality = str(ds, 'x00080060').toUpperCase();
  const encoding = encodingFor(str(ds, 'x00080005'));
  const text = (tag: string): string => decodeText(ds, tag, encoding);
  // An empty SOPInstanceUID with a MediaStorageSOPInstanceUID in the meta group (seen in the
  // TotalSegmentator example DICOM): the meta value names the same instance (PS3.10 7.1).
  let sopUid = uidOrEmpty(str(ds, 'x00080018')) || uidOrEmpty(str(ds, 'x00020003'));
  let studyUid = uidOrEmpty(str(ds, 'x0020000d'));
  let seriesUid = uidOrEmpty(str(ds, 'x0020000e'));
  let forUid = uidOrEmpty(str(ds, 'x00200052'));
  const generatedUids: string[] = [];
  const patientId = text('x00100020');
  const patientName = text('x00100010');
  const studyDate = str(ds, 'x00080020');
  const studyTime = str(ds, 'x00080030');
  if (!studyUid) {
    studyUid = derivedUid('study', patientId, patientName, studyDate, studyTime, str(ds, 'x00200010'), str(ds, 'x00080050'));
    generatedUids.push('StudyInstanceUID');
  }
  const objectModality = OBJECT_CLASSES[sopClassUid] ?? (OBJECT_MODALITIES.has(modality) ? modality : undefined);
  if (objectModality) {
    if (!sopUid) {
      sopUid = derivedUid('object', createHash('sha256').update(bytes).digest('hex'));
    }
    return {
      kind: 'object',
      path,
      sopInstanceUid: sopUid,
      sopClassUid,
      modality: objectModality,
      studyUid,
      seriesUid,
      frameOfReferenceUid: forUid,
      referencedSeriesUid: referencedSeries(ds),
      label: text('x30060002') || text('x0008103e'),
    };
  }
  if (ENHANCED_CLASSES[sopClassUid]) {
    return skip(`multi-frame ${ENHANCED_CLASSES[sopClassUid]} is not supported (export the series as single-frame CT images)`);
  }
  const frames = Number(str(ds, 'x00280008') || '1');
  if (Number.isFinite(frames) && frames > 1) return skip(`multi-frame image (${frames} frames) is not supported`);
  const pixel = ds.elements.x7fe00010;
  if (!pixel) return skip(`no pixel data (SOP class ${sopClassUid || 'unknown'}, modality ${modality || 'unknown'}); not an image or RT object`);
  if (!isSupportedTransferSyntax(transferSyntax)) {
    return skip(`unsupported transfer syntax ${transferSyntaxName(transferSyntax)}`);
  }
  const rows = us(ds, 'x00280010');
  const columns = us(ds, 'x00280011');
  const bitsAllocated = us(ds, 'x00280100');
  const samples = us(ds, 'x00280002') || 1;
  if (rows <= 0 || columns <= 0) return skip(`invalid image size ${columns}x${rows}`);
  if (![8, 16, 32].includes(bitsAllocated)) return skip(`unsupported BitsAllocated ${bitsAllocated}`);
  if (samples !== 1) return skip(`colour image (SamplesPerPixel ${samples}) is not a CT slice`);
  const encapsulated = pixel.hadUndefinedLength === true;
  const native = ['native', 'native-be'].includes(pixelEncoding(transferSyntax) ?? '');
  if (encapsulated === native) {
    return skip(
      `pixel data is ${encapsulated ? 'encapsulated' : 'not encapsulated'} but the transfer syntax ${transferSyntaxName(transferSyntax)} requires ${native ? 'native' : 'encapsulated'} pixel data (PS3.5 A.4)`,
    );
  }
  if (!encapsulated) {
    const need = (rows * columns * bitsAllocated) / 8;
    if (pixel.length < need) return skip(`pixel data holds ${pixel.length} bytes, ${columns}x${rows}x${bitsAllocated} bits needs ${need}`);
    // `bytes` may be only the start of the file: compare with the file's size (ds.byteArray can be
    // longer than `bytes` by a re-added preamble).
    if (pixel.dataOffset + need > ds.byteArray.length + (size - bytes.length)) {
      return skip('truncated file (pixel data ends past the end of the file)');
    }
  }
  // Modality LUT values that make every voxel the same (slope 0) or undefined (NaN, Inf): refused,
  // never replaced by a default (PS3.3 C.11.1.1.2).
  const slopeText = str(ds, 'x00281053');
  if (slopeText) {
    const slope = Number(slopeText.split('\\')[0]);
    if (!Number.isFinite(slope) || slope === 0) return skip(`RescaleSlope (0028,1053) is '${slopeText}': not a usable modality LUT`);
  }
  const interceptText = str(ds, 'x00281052');
  if (interceptText && !Number.isFinite(Number(interceptText.split('\\')[0]))) {
    return skip(`RescaleIntercept (0028,1052) is '${interceptText}': not a number`);
  }
  const position = nums(ds, 'x00200032', 3) as Vec3 | null;
  const orientation = nums(ds, 'x00200037', 6) as ImageHeader['orientation'];
  const pixelSpacing = nums(ds, 'x00280030', 2) as [number, number] | null;
  if (!forUid) {
    forUid = derivedUid('for', studyUid);
    generatedUids.push('FrameOfReferenceUID');
  }
  const seriesNumber = str(ds, 'x00200011');
  const seriesDescription = text('x0008103e');
  if (!seriesUid) {
    seriesUid = derivedUid('series', studyUid, seriesNumber, seriesDescription, modality, forUid, str(ds, 'x00080031'));
    generatedUids.push('SeriesInstanceUID');
  }
  if (!sopUid) {
    sopUid = derivedUid('sop', seriesUid, createHash('sha256').update(bytes).digest('hex'));
    generatedUids.push('SOPInstanceUID');
  }
  const instanceNumber = Number.parseInt(str(ds, 'x00200013'), 10);
  return {
    kind: 'image',
    path,
    size,
    mtimeMs,
    transferSyntax,
    sopClassUid,
    sopInstanceUid: sopUid,
    studyUid,
    seriesUid,
    frameOfReferenceUid: forUid,
    generatedUids,
    modality: modality || 'OT',
    patientId,
    patientName,
    birthDate: str(ds, 'x00100030'),
    sex: str(ds, 'x00100040'),
    studyDate,
    studyTime,
    studyDescription: text('x00081030'),
    accession: text('x00080050'),
    studyId: text('x00200010'),
    seriesDescription,
    seriesNumber,
    seriesDate: str(ds, 'x00080021'),
    instanceNumber: Number.isFinite(instanceNumber) ? instanceNumber : null,
    position,
    orientation,
    pixelSpacing,
    rows,
    columns,
    imageType: str(ds, 'x00080008').toUpperCase().split('\\').map((s) => s.trim()),
    phaseKey: [str(ds, 'x00200012'), str(ds, 'x00200100'), str(ds, 'x00181060')].join('|'),
    gantryTilt: Number(str(ds, 'x00181120') || '0') || 0,
  };
}
