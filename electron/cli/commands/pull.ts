/**
 * `delineate pull --from NAME|AET@HOST:PORT (--patient ID | --study UID) [--modality CT] --aet AET --port N`:
 * C-FIND the studies and series on a PACS, C-MOVE them to our own SCP (started for the duration on
 * --port as --aet; the PACS must know that AE title with this host and port), and import them.
 */
import { dirname, join } from 'node:path';
import { req, str, type ParsedArgs } from '../args.js';
import type { CliContext, Command } from '../command.js';
import { InputError } from '../../engine/errors.js';
import { getDestination, parseDestination, validateAeTitle, DEFAULT_CALLING_AE } from '../../engine/dimse/destination.js';
import { pull, type PullResult } from '../../engine/node/pull.js';

export const pullCommand: Command = {
  path: ['pull'],
  summary: 'retrieve studies from a PACS (C-FIND, then C-MOVE to our own SCP) and import them',
  usage: 'delineate pull --from NAME|AET@HOST:PORT (--patient ID | --study UID) [--modality CT] [--aet AET] [--port N] [--bind ADDR] [--incoming DIR] [--timeout S] [--db FILE] [--json]',
  flags: {
    from: { type: 'string', description: 'the PACS: a saved destination name or AET@HOST:PORT' },
    patient: { type: 'string', description: 'patient ID to retrieve every study of' },
    study: { type: 'string', description: 'study instance UID to retrieve' },
    modality: { type: 'string', description: 'only series of this modality (e.g. CT)' },
    aet: { type: 'string', description: `our AE title, the move destination (default ${DEFAULT_CALLING_AE})` },
    port: { type: 'string', description: 'port our SCP listens on for the moved instances (default 11112)' },
    bind: { type: 'string', description: 'address our SCP listens on (default every interface)' },
    incoming: { type: 'string', description: 'folder for received files (default incoming/ beside the database)' },
    timeout: { type: 'string', description: 'seconds for each network step (default 30)' },
  },
  async run(a: ParsedArgs, ctx: CliContext): Promise<PullResult> {
    const from = req(a, 'from');
    const patientId = str(a, 'patient');
    const studyUid = str(a, 'study');
    if (!patientId === !studyUid) throw new InputError('give exactly one of --patient ID or --study UID');
    const aeTitle = validateAeTitle(str(a, 'aet') ?? DEFAULT_CALLING_AE, '--aet');
    const portText = str(a, 'port') ?? '11112';
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`--port must be 1-65535, not '${portText}'`);
    const timeoutText = str(a, 'timeout');
    const timeoutMs = timeoutText === undefined ? undefined : Number(timeoutText) * 1000;
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs <= 0)) throw new InputError(`--timeout must be seconds, not '${timeoutText}'`);
    const db = ctx.db();
    const base = from.includes('@') ? parseDestination(from, { callingAeTitle: aeTitle }) : { ...getDestination(db, from), callingAeTitle: aeTitle };
    const peer = timeoutMs ? { ...base, timeoutMs } : base;
    const bind = str(a, 'bind');
    const modality = str(a, 'modality');
    const res = await pull({
      db,
      peer,
      aeTitle,
      port,
      ...(bind !== undefined ? { bind } : {}),
      incomingDir: str(a, 'incoming') ?? join(dirname(ctx.dbPath), 'incoming'),
      ...(patientId ? { patientId } : {}),
      ...(studyUid ? { studyUid } : {}),
      ...(modality ? { modality: modality.toUpperCase() } : {}),
      signal: ctx.signal,
      log: ctx.log,
    });
    return res;
  },
  human(result) {
    const r = result as PullResult;
    const lines = r.series.map((s) => `${s.seriesUid}  ${s.modality}  ${s.completed} received${s.failed ? `, ${s.failed} failed` : ''}  ${s.seriesDescription}`);
    lines.push(`${r.studies.length} studies, ${r.series.length} series; imported ${r.imported.series.length} series, ${r.imported.skipped.length} files skipped`);
    return lines.join('\n');
  },
};
