/**
 * `delineate review approve|reject|reset --series UID... --structure NAME --reviewer NAME [--set NAME]`:
 * records a review decision on stored results with their audit entries, in one transaction (several
 * series: the batch approval of one structure; all or nothing). Only approved structures are
 * exported with `export rtstruct --approved-only`.
 * JSON: {reviews:[{seriesUid, templateSet, structure, reviewState, reviewer, resultId}]}.
 */
import type { Command } from '../command.js';
import { list, req, str } from '../args.js';
import { InputError } from '../../engine/errors.js';
import { reviewStructures } from '../../engine/audit/audit.js';
import type { ReviewState } from '../../engine/store/results.js';

const FLAGS = {
  series: { type: 'list', description: 'series UIDs (several: the same decision on each)' },
  structure: { type: 'string', description: 'structure name (TG-263)' },
  reviewer: { type: 'string', description: 'who decides (recorded in the audit trail)' },
  set: { type: 'string', description: 'template set, when the structure has results from several' },
  comment: { type: 'string', description: 'free text kept in the audit trail' },
} as const;

function reviewCommand(verb: 'approve' | 'reject' | 'reset', state: ReviewState): Command {
  return {
    path: ['review', verb],
    summary: `${verb} a structure's result on a series (audited)`,
    usage: `delineate review ${verb} --series UID... --structure NAME --reviewer NAME [--set NAME] [--comment TEXT] [--db FILE] [--json]`,
    flags: FLAGS,
    run(args, ctx) {
      const series = list(args, 'series');
      if (series.length === 0) throw new InputError('option --series is required');
      const structure = req(args, 'structure');
      const reviewer = req(args, 'reviewer');
      const set = str(args, 'set');
      const comment = str(args, 'comment');
      const done = reviewStructures(
        ctx.db(),
        series.map((seriesUid) => ({
          seriesUid,
          structure,
          reviewer,
          state,
          ...(set !== undefined ? { templateSet: set } : {}),
          ...(comment !== undefined ? { comment } : {}),
        })),
      );
      return Promise.resolve({
        reviews: done.map((r) => ({ seriesUid: r.seriesUid, templateSet: r.templateSet, structure, reviewState: state, reviewer: reviewer.trim(), resultId: r.resultId })),
      });
    },
  };
}

export const reviewApproveCommand = reviewCommand('approve', 'approved');
export const reviewRejectCommand = reviewCommand('reject', 'rejected');
export const reviewResetCommand = reviewCommand('reset', 'pending');
