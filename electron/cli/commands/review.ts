/**
 * `delineate review approve|reject|reset --series UID --structure NAME --reviewer NAME [--set NAME]`:
 * records a review decision on a stored result and its audit entry in one transaction. Only
 * approved structures are exported with `export rtstruct --approved-only`.
 * JSON: {seriesUid, templateSet, structure, reviewState, reviewer, resultId}.
 */
import type { Command } from '../command.js';
import { req, str } from '../args.js';
import { reviewStructure } from '../../engine/audit/audit.js';
import type { ReviewState } from '../../engine/store/results.js';

const FLAGS = {
  series: { type: 'string', description: 'series UID' },
  structure: { type: 'string', description: 'structure name (TG-263)' },
  reviewer: { type: 'string', description: 'who decides (recorded in the audit trail)' },
  set: { type: 'string', description: 'template set, when the structure has results from several' },
  comment: { type: 'string', description: 'free text kept in the audit trail' },
} as const;

function reviewCommand(verb: 'approve' | 'reject' | 'reset', state: ReviewState): Command {
  return {
    path: ['review', verb],
    summary: `${verb} a structure's result on a series (audited)`,
    usage: `delineate review ${verb} --series UID --structure NAME --reviewer NAME [--set NAME] [--comment TEXT] [--db FILE] [--json]`,
    flags: FLAGS,
    run(args, ctx) {
      const seriesUid = req(args, 'series');
      const structure = req(args, 'structure');
      const reviewer = req(args, 'reviewer');
      const set = str(args, 'set');
      const comment = str(args, 'comment');
      const r = reviewStructure(ctx.db(), {
        seriesUid,
        structure,
        reviewer,
        state,
        ...(set !== undefined ? { templateSet: set } : {}),
        ...(comment !== undefined ? { comment } : {}),
      });
      return Promise.resolve({ seriesUid, templateSet: r.templateSet, structure, reviewState: state, reviewer: reviewer.trim(), resultId: r.resultId });
    },
  };
}

export const reviewApproveCommand = reviewCommand('approve', 'approved');
export const reviewRejectCommand = reviewCommand('reject', 'rejected');
export const reviewResetCommand = reviewCommand('reset', 'pending');
