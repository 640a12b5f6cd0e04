/** The node's state as the CLI (`node status`) and the api show it. */
import type { Db } from '../store/db.js';
import { listAssociations, listJobs, listNodeSeries, requireNodeTables, type NodeAssociation, type NodeJob, type NodeSeries } from './store.js';

export interface NodeStatus {
  associations: NodeAssociation[];
  series: NodeSeries[];
  jobs: NodeJob[];
  /** Jobs whose send failed: retrying (status sending with an error) or given up (failed). */
  failedSends: NodeJob[];
}

export function nodeStatus(db: Db, limit = 50): NodeStatus {
  requireNodeTables(db);
  return {
    associations: listAssociations(db, limit),
    series: listNodeSeries(db, limit),
    jobs: listJobs(db, 'all'),
    failedSends: listJobs(db, 'failing'),
  };
}
