/**
 * Query/retrieve SCU over dcmjs-dimse (PS3.4 Annex C, Study Root information model): C-FIND at
 * study and series level, and C-MOVE of a series to a named AE title (our own SCP, which the peer
 * must know by AE title, host and port). Errors are DelineateError('network') naming the peer.
 */
import { createRequire } from 'node:module';
import type * as DimseTypes from 'dcmjs-dimse';
import { DelineateError, InputError } from '../errors.js';
import { associate, type DimseRequest, type SendOptions } from './client.js';
import { formatDestination, type Destination } from './destination.js';

const dimse = createRequire(import.meta.url)('dcmjs-dimse') as typeof DimseTypes;
const { CFindRequest, CMoveRequest } = dimse.requests;
const { Status } = dimse.constants;

export interface StudyMatch {
  studyUid: string;
  patientId: string;
  patientName: string;
  studyDate: string;
  studyDescription: string;
  accession: string;
}

export interface SeriesMatch {
  studyUid: string;
  seriesUid: string;
  modality: string;
  seriesDescription: string;
  seriesNumber: string;
  instances: number | null;
}

type Dataset = DimseTypes.Dataset;

function text(ds: Dataset, tag: string): string {
  const v = ds.getElement(tag) as unknown;
  if (v === undefined || v === null) return '';
  if (typeof v === 'object' && v !== null && 'Alphabetic' in v) return String((v as { Alphabetic: unknown }).Alphabetic ?? '');
  return String(v).trim();
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(4, '0').toUpperCase()}`;
}

async function find(dest: Destination, req: DimseTypes.requests.CFindRequest, opts: SendOptions): Promise<Dataset[]> {
  const out: Dataset[] = [];
  let final: number | undefined;
  req.on('response', (r: DimseTypes.responses.CFindResponse) => {
    const status = r.getStatus();
    if ((status === Status.Pending || status === 0xff01) && r.hasDataset()) out.push(r.getDataset()!);
    else if (status !== Status.Pending && status !== 0xff01) final = status;
  });
  await associate(dest, [req as unknown as DimseRequest], opts);
  const peer = formatDestination(dest);
  if (final === undefined) throw new DelineateError('network', `${peer} did not answer the C-FIND (Study Root Query/Retrieve not supported?)`, { destination: peer });
  if (final !== Status.Success) throw new DelineateError('network', `${peer} answered the C-FIND with status ${hex(final)}`, { destination: peer });
  return out;
}

/** Studies by patient ID or study UID (exactly one). */
export async function findStudies(dest: Destination, q: { patientId?: string; studyUid?: string }, opts: SendOptions = {}): Promise<StudyMatch[]> {
  if (!q.patientId === !q.studyUid) throw new InputError('give a patient ID or a study UID to search for');
  const req = CFindRequest.createStudyFindRequest({
    PatientID: q.patientId ?? '',
    StudyInstanceUID: q.studyUid ?? '',
    PatientName: '',
    StudyDate: '',
    StudyDescription: '',
    AccessionNumber: '',
  });
  return (await find(dest, req, opts)).map((ds) => ({
    studyUid: text(ds, 'StudyInstanceUID'),
    patientId: text(ds, 'PatientID'),
    patientName: text(ds, 'PatientName'),
    studyDate: text(ds, 'StudyDate'),
    studyDescription: text(ds, 'StudyDescription'),
    accession: text(ds, 'AccessionNumber'),
  }));
}

/** The series of a study, optionally of one modality. */
export async function findSeries(dest: Destination, studyUid: string, modality?: string, opts: SendOptions = {}): Promise<SeriesMatch[]> {
  const req = CFindRequest.createSeriesFindRequest({
    StudyInstanceUID: studyUid,
    SeriesInstanceUID: '',
    Modality: modality ?? '',
    SeriesDescription: '',
    SeriesNumber: '',
    NumberOfSeriesRelatedInstances: '',
  });
  return (await find(dest, req, opts)).map((ds) => {
    const n = Number(text(ds, 'NumberOfSeriesRelatedInstances'));
    return {
      studyUid: text(ds, 'StudyInstanceUID') || studyUid,
      seriesUid: text(ds, 'SeriesInstanceUID'),
      modality: text(ds, 'Modality'),
      seriesDescription: text(ds, 'SeriesDescription'),
      seriesNumber: text(ds, 'SeriesNumber'),
      instances: Number.isFinite(n) && text(ds, 'NumberOfSeriesRelatedInstances') !== '' ? n : null,
    };
  });
}

export interface MoveOutcome {
  completed: number;
  failed: number;
  warnings: number;
}

/** C-MOVE of one series to `moveTo` (an AE title the peer knows); resolves when the peer reports the move finished. */
export async function moveSeries(dest: Destination, moveTo: string, studyUid: string, seriesUid: string, opts: SendOptions = {}): Promise<MoveOutcome> {
  const req = CMoveRequest.createSeriesMoveRequest(moveTo, studyUid, seriesUid);
  let final: { status: number; completed: number; failed: number; warnings: number; comment?: string } | undefined;
  req.on('response', (r: DimseTypes.responses.CMoveResponse) => {
    const status = r.getStatus();
    if (status === Status.Pending) return;
    final = { status, completed: r.getCompleted() ?? 0, failed: r.getFailures() ?? 0, warnings: r.getWarnings() ?? 0, comment: r.getErrorComment() ?? '' };
  });
  await associate(dest, [req as unknown as DimseRequest], { ...opts, totalMs: opts.totalMs ?? Math.max(dest.timeoutMs * 20, 600_000) });
  const peer = formatDestination(dest);
  if (!final) throw new DelineateError('network', `${peer} did not answer the C-MOVE of series ${seriesUid}`, { destination: peer, seriesUid });
  if (final.status === 0xa801) throw new DelineateError('network', `${peer} does not know the move destination ${moveTo} (status 0xA801): add it to the peer's DICOM modalities`, { destination: peer });
  if (final.status !== Status.Success && final.status !== 0xb000) {
    throw new DelineateError('network', `${peer} answered the C-MOVE of series ${seriesUid} with status ${hex(final.status)}${final.comment ? `: ${final.comment}` : ''}`, { destination: peer, seriesUid });
  }
  return { completed: final.completed, failed: final.failed, warnings: final.warnings };
}
