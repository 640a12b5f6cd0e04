/**
 * `delineate send FILE... --to AET@HOST:PORT|NAME [--calling AET] [--timeout S] [--save NAME] [--echo]`:
 * C-STORE of DICOM files (an exported RTSTRUCT) to a TPS or PACS in one association. `--to` takes a
 * destination or the name of one kept in the database (`--save NAME` keeps it). Exit status 1 with a
 * message naming the peer when the association fails or any file is refused.
 */
import { bool, str, type ParsedArgs } from '../args.js';
import type { CliContext, Command } from '../command.js';
import { DelineateError, InputError } from '../../engine/errors.js';
import { echo, storeFiles } from '../../engine/dimse/client.js';
import { formatDestination, getDestination, parseDestination, saveDestination, validateAeTitle, type Destination } from '../../engine/dimse/destination.js';
import { recordExport } from '../../engine/rtstruct/exports-log.js';

export interface SendOutput {
  sent: Array<{ file: string; status: string }>;
}

export const sendCommand: Command = {
  path: ['send'],
  summary: 'send DICOM files (an exported RTSTRUCT) to a TPS or PACS by C-STORE',
  usage: 'delineate send FILE... --to AET@HOST:PORT|NAME [--calling AET] [--timeout SECONDS] [--save NAME] [--echo]',
  flags: {
    to: { type: 'string', description: 'destination AET@HOST:PORT, or the name of a saved destination' },
    calling: { type: 'string', description: 'calling AE title (default DELINEATE, or the saved one)' },
    timeout: { type: 'string', description: 'seconds to wait for each network step (default 30)' },
    save: { type: 'string', description: 'keep the --to destination in the database under this name' },
    echo: { type: 'boolean', description: 'verify the destination with C-ECHO first (alone when no FILE is given)' },
  },
  async run(a: ParsedArgs, ctx: CliContext): Promise<SendOutput> {
    const to = str(a, 'to');
    if (!to) throw new InputError('option --to is required (AET@HOST:PORT or a saved destination name)');
    const timeoutText = str(a, 'timeout');
    const timeoutS = timeoutText === undefined ? undefined : Number(timeoutText);
    if (timeoutS !== undefined && (!Number.isFinite(timeoutS) || timeoutS <= 0)) throw new InputError(`--timeout must be seconds, not '${timeoutText}'`);
    const calling = str(a, 'calling');
    let dest: Destination;
    if (to.includes('@')) {
      dest = parseDestination(to, { ...(calling ? { callingAeTitle: calling } : {}), ...(timeoutS ? { timeoutMs: timeoutS * 1000 } : {}) });
    } else {
      dest = getDestination(ctx.db(), to);
      if (calling) dest.callingAeTitle = validateAeTitle(calling, 'calling AE title');
      if (timeoutS) dest.timeoutMs = timeoutS * 1000;
    }
    const save = str(a, 'save');
    if (save) saveDestination(ctx.db(), save, dest);
    const peer = formatDestination(dest);
    const files = a.positionals;
    if (bool(a, 'echo') || files.length === 0) {
      if (!bool(a, 'echo')) throw new InputError('no files to send (give FILE... or --echo)');
      await echo(dest, { signal: ctx.signal });
      ctx.log(`C-ECHO to ${peer}: ok`);
      if (files.length === 0) return { sent: [] };
    }
    const outcomes = await storeFiles(dest, files, { signal: ctx.signal });
    const db = ctx.db();
    for (const o of outcomes) {
      ctx.log(`${o.file}: ${o.status}${o.message ? ` (${o.message})` : ''}`);
      recordExport(db, { kind: 'send', path: o.file, destination: peer, status: o.status === 'failed' ? 'failed' : 'ok', detail: o.message ?? '' });
    }
    const failed = outcomes.filter((o) => o.status === 'failed');
    if (failed.length > 0) {
      throw new DelineateError('network', `${peer} did not store ${failed.map((f) => `${f.file} (${f.message})`).join('; ')}`, { destination: peer });
    }
    return { sent: outcomes.map((o) => ({ file: o.file, status: o.status })) };
  },
};
