/**
 * Query/retrieve into the archive: C-FIND the studies of a patient (or one study) and their series
 * (optionally of one modality) on a PACS, C-MOVE each series to our own SCP (started here for the
 * duration, with the node's durable write path), then import what arrived. The PACS must know our AE
 * title with this host and port (its list of DICOM modalities). Associations and instances are
 * recorded in the node's tables like those the listening node receives.
 */
import { dirname } from 'node:path';
import type { ImportResult } from '../../api.js';
import type { Db } from '../store/db.js';
import { importPaths } from '../dicom/import.js';
import { formatDestination, type Destination } from '../dimse/destination.js';
import { findSeries, findStudies, moveSeries, type SeriesMatch, type StudyMatch } from '../dimse/query.js';
import { DelineateError } from '../errors.js';
import { StoreReceiver } from './scp.js';
import { closeAssociation, finishSeries, noteRefused, openAssociation, recordInstance, recordRejectedAssociation, requireNodeTables } from './store.js';

export interface PullOptions {
  db: Db;
  peer: Destination;
  /** Our AE title (the move destination) and where our SCP listens for the peer's C-STORE. */
  aeTitle: string;
  port: number;
  bind?: string;
  incomingDir: string;
  patientId?: string;
  studyUid?: string;
  modality?: string;
  signal?: AbortSignal;
  log?(message: string): void;
}

export interface PullResult {
  studies: StudyMatch[];
  series: Array<SeriesMatch & { completed: number; failed: number }>;
  imported: ImportResult;
}

export async function pull(o: PullOptions): Promise<PullResult> {
  requireNodeTables(o.db);
  const peerName = formatDestination(o.peer);
  const folders = new Set<string>();
  const receivedSeries = new Set<string>();
  const receiver = new StoreReceiver({
    aeTitle: o.aeTitle,
    port: o.port,
    ...(o.bind !== undefined ? { bind: o.bind } : {}),
    incomingDir: o.incomingDir,
    // Only the peer we asked may store to this short-lived SCP.
    allowedCallingAes: [o.peer.aeTitle],
    hooks: {
      opened: (peer) => openAssociation(o.db, peer),
      rejected: (peer, reason) => recordRejectedAssociation(o.db, peer, reason),
      stored: (i) => {
        recordInstance(o.db, i, dirname(i.path), Date.now());
        folders.add(dirname(i.path));
        receivedSeries.add(i.seriesUid);
      },
      refused: (id, _peer, sop, reason) => {
        if (id >= 0) noteRefused(o.db, id, sop, reason);
        o.log?.(`refused instance ${sop}: ${reason}`);
      },
      closed: (id, outcome, counts) => closeAssociation(o.db, id, outcome, counts),
    },
  });
  await receiver.listen();
  const series: PullResult['series'] = [];
  let studies: StudyMatch[];
  try {
    studies = await findStudies(o.peer, { ...(o.patientId ? { patientId: o.patientId } : {}), ...(o.studyUid ? { studyUid: o.studyUid } : {}) }, { ...(o.signal ? { signal: o.signal } : {}) });
    if (studies.length === 0) throw new DelineateError('not-found', `${peerName} has no study ${o.patientId ? `for patient ID ${o.patientId}` : o.studyUid}`);
    for (const st of studies) {
      const found = await findSeries(o.peer, st.studyUid, o.modality, { ...(o.signal ? { signal: o.signal } : {}) });
      for (const s of found) {
        o.log?.(`C-MOVE series ${s.seriesUid} (${s.modality}${s.instances !== null ? `, ${s.instances} instances` : ''}) from ${peerName} to ${o.aeTitle}`);
        const moved = await moveSeries(o.peer, o.aeTitle, st.studyUid, s.seriesUid, { ...(o.signal ? { signal: o.signal } : {}) });
        series.push({ ...s, completed: moved.completed, failed: moved.failed });
        if (moved.failed > 0) o.log?.(`${peerName} reported ${moved.failed} failed sub-operations for series ${s.seriesUid}`);
      }
    }
  } finally {
    await receiver.close();
  }
  if (series.length === 0) throw new DelineateError('not-found', `${peerName} has no ${o.modality ? `${o.modality} ` : ''}series in ${studies.length} matching studies`);
  const imported = await importPaths(o.db, [...folders], { ...(o.signal ? { signal: o.signal } : {}) });
  for (const uid of receivedSeries) finishSeries(o.db, uid, 'imported', '', `pulled from ${peerName}`);
  return { studies, series, imported };
}
