/**
 * `delineate node status [--db FILE]`: what the DICOM node received and did: recent associations
 * (who sent what), series and the rule that matched, jobs, and the sends that failed (with the
 * error, the attempts and when the next retry is due).
 */
import type { Command } from '../command.js';
import { nodeStatus, type NodeStatus } from '../../engine/node/status.js';

export const nodeStatusCommand: Command = {
  path: ['node', 'status'],
  summary: 'the DICOM node\'s associations, series, jobs and failed sends',
  usage: 'delineate node status [--db FILE] [--json]',
  flags: {},
  async run(_a, ctx): Promise<NodeStatus> {
    return nodeStatus(ctx.db());
  },
  human(result) {
    const s = result as NodeStatus;
    const lines = ['associations (latest first):'];
    for (const a of s.associations) lines.push(`  ${a.startedAt}  ${a.callingAe.padEnd(16)} ${a.address.padEnd(22)} ${a.outcome.padEnd(9)} ${a.stored} stored, ${a.refused} refused${a.detail ? `  ${a.detail}` : ''}`);
    lines.push('series:');
    for (const r of s.series) lines.push(`  ${r.seriesUid}  ${r.status.padEnd(13)} ${String(r.instances).padStart(5)} instances  from ${r.callingAe || '?'}  rule ${r.rule || '(none)'}`);
    lines.push('jobs:');
    for (const j of s.jobs) lines.push(`  ${String(j.id).padStart(4)}  ${j.status.padEnd(17)} ${j.seriesUid}  rule ${j.rule} -> ${j.destination}${j.lastError ? `  last error: ${j.lastError}` : ''}`);
    lines.push(`failed jobs and sends: ${s.failedSends.length}`);
    for (const j of s.failedSends) {
      lines.push(`  job ${j.id} ${j.status === 'failed' ? 'gave up' : `retrying (next ${new Date(j.nextAttemptMs).toISOString()})`} after ${j.attempts} attempts: ${j.lastError}`);
    }
    return lines.join('\n');
  },
};
