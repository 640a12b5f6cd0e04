/**
 * `delineate export dataset --set NAME --format nnunet --out DIR [--include-pending]`: the results of
 * a template set as a training dataset for research tools (engine/research/nnunet.ts). Approved
 * structures only unless --include-pending; a series enters only with every structure present.
 * --deidentify refuses series whose images declare burned-in annotation (unless --allow-burned-in)
 * and records the de-identification in dataset.json; the NIfTI files carry no DICOM attributes.
 * JSON: {out, labels:{name: value}, cases:[{caseId, seriesUid}], skipped:[{seriesUid, reason}]}.
 */
import type { Command } from '../command.js';
import { bool, req } from '../args.js';
import { InputError } from '../../engine/errors.js';
import { exportNnunet, type NnunetExportResult } from '../../engine/research/nnunet.js';
import { DEID_FLAGS } from './export-dicom.js';

export const exportDatasetCommand: Command = {
  path: ['export', 'dataset'],
  summary: 'write the results of a template set as a research dataset (nnU-Net v2 layout)',
  usage: 'delineate export dataset --set NAME --format nnunet --out DIR [--include-pending] [--deidentify [--allow-burned-in]] [--db FILE] [--json]',
  flags: {
    set: { type: 'string', description: 'template set' },
    format: { type: 'string', description: 'nnunet (nnU-Net v2 raw dataset: imagesTr, labelsTr, dataset.json)' },
    out: { type: 'string', description: 'dataset folder (new or empty), e.g. Dataset501_HeadNeck' },
    'include-pending': { type: 'boolean', description: 'also structures not reviewed yet (never rejected ones)' },
    deidentify: DEID_FLAGS.deidentify,
    'allow-burned-in': DEID_FLAGS['allow-burned-in'],
  },
  async run(args, ctx): Promise<NnunetExportResult> {
    const format = req(args, 'format');
    if (format !== 'nnunet') throw new InputError(`option --format must be nnunet, not '${format}'`);
    const deidentify = bool(args, 'deidentify');
    if (!deidentify && bool(args, 'allow-burned-in')) throw new InputError('--allow-burned-in goes with --deidentify');
    const res = await exportNnunet(ctx.db(), {
      templateSet: req(args, 'set'),
      out: req(args, 'out'),
      states: bool(args, 'include-pending') ? ['approved', 'pending'] : ['approved'],
      ...(deidentify ? { deidentify: { allowBurnedInAnnotation: bool(args, 'allow-burned-in') } } : {}),
      signal: ctx.signal,
    });
    for (const s of res.skipped) ctx.log(`skipped ${s.seriesUid}: ${s.reason}`);
    return res;
  },
  human(result) {
    const r = result as NnunetExportResult;
    return [`${r.out}: ${r.cases.length} cases, labels ${Object.entries(r.labels).map(([k, v]) => `${v}=${k}`).join(' ')}`, ...r.skipped.map((s) => `  skipped ${s.seriesUid}: ${s.reason}`)].join('\n');
  },
};
