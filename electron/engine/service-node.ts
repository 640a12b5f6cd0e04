/**
 * The DICOM node and PACS search behind the api (nodeStart/nodeStop/nodeStatus/nodeValidateRules/
 * pacsSearch): one node per service, over the service's database; received files go to `incoming/`
 * and RTSTRUCTs to `outgoing/` beside it.
 */
import { dirname, join } from 'node:path';
import type { DelineateApi, NodeStatusInfo, PacsStudy } from '../api.js';
import type { Db } from './store/db.js';
import { DelineateError, InputError } from './errors.js';
import { DicomNode } from './node/node.js';
import { parseRules, type NodeRules } from './node/rules.js';
import { nodeStatus } from './node/status.js';
import { findSeries, findStudies } from './dimse/query.js';
import { DEFAULT_CALLING_AE, getDestination, parseDestination, validateAeTitle } from './dimse/destination.js';
import { defaultModelsDir } from './paths.js';

type NodeMethods = Pick<DelineateApi, 'nodeStart' | 'nodeStop' | 'nodeStatus' | 'nodeValidateRules' | 'pacsSearch'>;

function rulesFromText(text: string): NodeRules {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`rules are not valid JSON: ${(e as Error).message}`);
  }
  return parseRules(json);
}

export function createNodeService(o: { db: Db; dbPath: string }): NodeMethods & { stopNode(): Promise<void> } {
  let node: { instance: DicomNode; aeTitle: string; bind: string | null; rules: number } | undefined;
  const status = (): NodeStatusInfo => ({
    running: node ? { aeTitle: node.aeTitle, port: node.instance.port, bind: node.bind, rules: node.rules } : null,
    ...nodeStatus(o.db),
  });
  const base = dirname(o.dbPath === ':memory:' ? join(process.cwd(), 'x') : o.dbPath);
  const stopNode = async (): Promise<void> => {
    const n = node;
    node = undefined;
    await n?.instance.stop();
  };
  return {
    async nodeStart(req) {
      if (node) throw new DelineateError('conflict', `the DICOM node is already running as ${node.aeTitle} on port ${node.instance.port}; stop it first`);
      const aeTitle = validateAeTitle(req.aeTitle, 'AE title');
      const rules = req.rules !== undefined && req.rules.trim() !== '' ? rulesFromText(req.rules) : { rules: [] };
      const instance = new DicomNode({
        db: o.db,
        dbPath: o.dbPath,
        aeTitle,
        port: req.port,
        ...(req.bind ? { bind: req.bind } : {}),
        incomingDir: join(base, 'incoming'),
        outgoingDir: join(base, 'outgoing'),
        rules,
        ...(req.quietSeconds !== undefined ? { quietMs: req.quietSeconds * 1000 } : {}),
        ...(req.backend ? { backend: req.backend } : {}),
        modelsDir: defaultModelsDir(),
      });
      await instance.start();
      node = { instance, aeTitle, bind: req.bind ?? null, rules: rules.rules.length };
      return status();
    },
    async nodeStop() {
      await stopNode();
      return status();
    },
    async nodeStatus() {
      return status();
    },
    async nodeValidateRules({ rules }) {
      const r = rulesFromText(rules);
      return { rules: r.rules.length, allowedCallingAeTitles: r.allowedCallingAeTitles ?? null };
    },
    async pacsSearch(req) {
      const calling = node?.aeTitle ?? DEFAULT_CALLING_AE;
      const peer = req.from.includes('@') ? parseDestination(req.from, { callingAeTitle: calling }) : getDestination(o.db, req.from);
      const studies = await findStudies(peer, { ...(req.patientId ? { patientId: req.patientId } : {}), ...(req.studyUid ? { studyUid: req.studyUid } : {}) });
      const out: PacsStudy[] = [];
      for (const st of studies) {
        const series = await findSeries(peer, st.studyUid, req.modality);
        out.push({
          studyUid: st.studyUid,
          patientId: st.patientId,
          patientName: st.patientName,
          studyDate: st.studyDate,
          studyDescription: st.studyDescription,
          series: series.map((s) => ({ seriesUid: s.seriesUid, modality: s.modality, seriesDescription: s.seriesDescription, instances: s.instances })),
        });
      }
      return { studies: out };
    },
    stopNode,
  };
}
