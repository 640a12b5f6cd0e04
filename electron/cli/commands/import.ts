/**
 * `delineate import <path>...`: index DICOM folders/files and NIfTI volumes into the archive.
 * JSON: ImportResult `{series, objects, skipped, warnings}` (DESIGN.md, CLI contract).
 */
import { existsSync } from 'node:fs';
import type { ImportResult } from '../../api.js';
import { importPaths } from '../../engine/dicom/import.js';
import { InputError } from '../../engine/errors.js';
import type { Command } from '../command.js';

export const importCommand: Command = {
  path: ['import'],
  summary: 'index DICOM folders/files and NIfTI volumes into the archive',
  usage: 'delineate import <path>... [--db FILE] [--json]',
  flags: {},
  async run(args, ctx) {
    if (args.positionals.length === 0) throw new InputError('import needs at least one path');
    // A path that does not exist is a typo, not a bad file inside an archive: fail, naming it.
    for (const p of args.positionals) if (!existsSync(p)) throw new InputError(`no such file or folder: ${p}`, { file: p });
    let last = 0;
    const result = await importPaths(ctx.db(), args.positionals, {
      signal: ctx.signal,
      onProgress: ({ done, total }) => {
        if (done === total || done - last >= 200) {
          last = done;
          ctx.log(`import: ${done}/${total} files`);
        }
      },
    });
    return result;
  },
  human(result) {
    const r = result as ImportResult;
    const lines = r.series.map(
      (s) => `${s.seriesUid}  ${s.modality}  ${s.dims.join('x')}  ${s.spacing.map((x) => x.toFixed(3)).join('x')} mm  ${s.instances} files  ${s.description}`,
    );
    for (const o of r.objects) lines.push(`${o.modality} ${o.sopInstanceUid} -> ${o.referencedSeriesUid ?? '(no series)'}  ${o.path}`);
    for (const w of r.warnings) lines.push(`warning: ${w.message}`);
    for (const s of r.skipped) lines.push(`skipped: ${s.reason}`);
    lines.push(`${r.series.length} series, ${r.objects.length} objects, ${r.skipped.length} skipped, ${r.warnings.length} warnings`);
    return lines.join('\n');
  },
};
