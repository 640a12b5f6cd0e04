/**
 * The DICOM node's and the PACS search's part of the API contract (api.ts re-exports it, so clients
 * import every API type from api.ts): the node's configuration and status (engine/node) and the
 * studies a PACS query returns (engine/dimse/query). Types only.
 */

export interface NodeConfig {
  aeTitle: string;
  port: number;
  /** Address to listen on (default every interface). */
  bind?: string;
  /** Seconds without a new instance after which a series is complete (default 30). */
  quietSeconds?: number;
  /** The rules as JSON text (engine/node/rules.ts); absent: import only. */
  rules?: string;
  /** Force a contouring backend ('atlas' works without models). */
  backend?: string;
}

export interface NodeAssociationInfo {
  id: number;
  callingAe: string;
  calledAe: string;
  address: string;
  startedAt: string;
  endedAt: string | null;
  outcome: string;
  detail: string;
  stored: number;
  refused: number;
}

export interface NodeSeriesInfo {
  seriesUid: string;
  studyUid: string;
  callingAe: string;
  instances: number;
  interrupted: boolean;
  status: string;
  rule: string;
  detail: string;
  importedAt: string | null;
}

export interface NodeJobInfo {
  id: number;
  seriesUid: string;
  rule: string;
  templateSet: string;
  destination: string;
  sendMode: 'now' | 'after-approval';
  status: string;
  attempts: number;
  nextAttemptMs: number;
  lastError: string;
  sentAt: string | null;
}

export interface NodeStatusInfo {
  /** The node this service runs, or null when stopped. */
  running: { aeTitle: string; port: number; bind: string | null; rules: number } | null;
  associations: NodeAssociationInfo[];
  series: NodeSeriesInfo[];
  jobs: NodeJobInfo[];
  failedSends: NodeJobInfo[];
}

export interface PacsStudy {
  studyUid: string;
  patientId: string;
  patientName: string;
  studyDate: string;
  studyDescription: string;
  series: Array<{ seriesUid: string; modality: string; seriesDescription: string; instances: number | null }>;
}
