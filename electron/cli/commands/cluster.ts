/**
 * `delineate cluster export|work|import|submit|status`: a labelling campaign on a Slurm cluster (or a
 * Kubernetes Indexed Job) over a work package on a shared filesystem (engine/cluster/package.ts).
 */
import type { Command } from '../command.js';
import { bool, list, req, str } from '../args.js';
import { DelineateError, InputError } from '../../engine/errors.js';
import { exportPackage, type ExportPackageResult } from '../../engine/cluster/export.js';
import { shardFromEnv, workShard } from '../../engine/cluster/work.js';
import { importPackage, type ImportPackageResult } from '../../engine/cluster/merge.js';
import { packageStatus, submitPackage, type PackageStatus, type SubmitResult } from '../../engine/cluster/slurm.js';
import { createProgressPrinter } from '../../engine/jobs/progress.js';
import { defaultModelsDir } from '../../engine/paths.js';
import { DEID_FLAGS } from './export-dicom.js';

function intFlag(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(`option --${name} must be an integer from ${min} to ${max}, not '${text}'`);
  return n;
}

export const clusterExportCommand: Command = {
  path: ['cluster', 'export'],
  summary: 'write a self-contained work package (series files, templates, model hashes, checksums) in shards',
  usage:
    'delineate cluster export --set NAME (--series UID... | --all) --to DIR --shards N [--mode wpl|spl] [--models DIR] [--backend medlam|atlas] [--deidentify [--project NAME] [--modified-dates] [--allow-burned-in]] [--db FILE] [--json]',
  flags: {
    set: { type: 'string', description: 'template set name' },
    series: { type: 'list', description: 'series UIDs to process' },
    all: { type: 'boolean', description: "every CT series of the archive except the set's templates" },
    to: { type: 'string', description: 'package folder (new or empty), on a filesystem the nodes share' },
    shards: { type: 'string', description: 'number of shards (array tasks)' },
    mode: { type: 'string', description: 'wpl (default) or spl' },
    models: { type: 'string', description: 'models folder whose hashes the nodes must match' },
    backend: { type: 'string', description: 'force a backend: medlam or atlas' },
    ...DEID_FLAGS,
  },
  async run(args, ctx): Promise<ExportPackageResult> {
    const series = list(args, 'series');
    const all = bool(args, 'all');
    if (all === series.length > 0) throw new InputError('option --series or --all is required (not both)');
    const mode = str(args, 'mode') ?? 'wpl';
    if (mode !== 'wpl' && mode !== 'spl') throw new InputError(`option --mode must be wpl or spl, not '${mode}'`);
    const backend = str(args, 'backend');
    const deidentify = bool(args, 'deidentify');
    if (!deidentify && (bool(args, 'modified-dates') || bool(args, 'allow-burned-in') || str(args, 'project') !== undefined)) {
      throw new InputError('--project, --modified-dates and --allow-burned-in go with --deidentify');
    }
    const project = str(args, 'project');
    return exportPackage(ctx.db(), {
      templateSet: req(args, 'set'),
      series: all ? 'all' : series,
      dir: req(args, 'to'),
      shards: intFlag(req(args, 'shards'), 'shards', 1, 100000)!,
      mode,
      modelsDir: str(args, 'models') ?? defaultModelsDir(),
      ...(backend !== undefined ? { backend } : {}),
      // De-identified: the package's series are pseudonyms; `cluster import` maps them home here.
      ...(deidentify
        ? { deidentify: { ...(project !== undefined ? { project } : {}), modifiedDates: bool(args, 'modified-dates'), allowBurnedInAnnotation: bool(args, 'allow-burned-in') } }
        : {}),
    });
  },
  human(result) {
    const r = result as ExportPackageResult;
    return [
      `package ${r.packageId} in ${r.dir}: ${r.files} files, ${(r.bytes / 1e6).toFixed(1)} MB, backends ${r.backend.localizer} + ${r.backend.segmenter}${r.deidentified ? ', de-identified' : ''}`,
      ...r.shards.map((s) => `  shard ${s.index}: ${s.series.length} series`),
    ].join('\n');
  },
};

export const clusterWorkCommand: Command = {
  path: ['cluster', 'work'],
  summary: "process one shard of a package into the shard's own database (resumable)",
  usage: 'delineate cluster work --package DIR [--shard K] [--workers N] [--models DIR] [--retry-failed] [--json]   (K default: SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX)',
  flags: {
    package: { type: 'string', description: 'package folder' },
    shard: { type: 'string', description: 'shard index (default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)' },
    workers: { type: 'string', description: 'worker threads (default 1)' },
    models: { type: 'string', description: "models folder on this node (must match the package's hashes)" },
    'retry-failed': { type: 'boolean', description: 'run the failed series of a finished shard again' },
  },
  async run(args, ctx) {
    const shard = intFlag(str(args, 'shard'), 'shard', 0, 1e9) ?? shardFromEnv();
    if (shard === undefined) throw new InputError('option --shard is required outside a Slurm array task or Kubernetes Indexed Job');
    const res = await workShard({
      dir: req(args, 'package'),
      shard,
      workers: intFlag(str(args, 'workers'), 'workers', 1, 64) ?? 1,
      modelsDir: str(args, 'models') ?? defaultModelsDir(),
      signal: ctx.signal,
      retryFailed: bool(args, 'retry-failed'),
      onEvent: createProgressPrinter((s) => process.stderr.write(s), process.stderr.isTTY === true),
    });
    if (res.skipped) ctx.log(`shard ${shard} had already finished on ${res.host}; nothing to do`);
    return res;
  },
};

export const clusterImportCommand: Command = {
  path: ['cluster', 'import'],
  summary: 'merge the finished shards of a package into the archive (idempotent, checksums verified)',
  usage: 'delineate cluster import --package DIR [--db FILE] [--json]',
  flags: { package: { type: 'string', description: 'package folder' } },
  run(args, ctx): Promise<ImportPackageResult> {
    return Promise.resolve(importPackage(ctx.db(), req(args, 'package')));
  },
  human(result) {
    const r = result as ImportPackageResult;
    const lines = [`package ${r.packageId}: ${r.imported} series imported, ${r.already} already imported, ${r.conflicts} conflicts, ${r.failed} failed`];
    if (r.missing.length) lines.push(`  shards not finished yet: ${r.missing.join(', ')} (import again later)`);
    for (const s of r.shards) for (const x of s.series) if (x.outcome === 'conflict' || x.outcome === 'failed') lines.push(`  shard ${s.index} ${x.seriesUid}: ${x.outcome}: ${x.reason ?? ''}`);
    return lines.join('\n');
  },
};

export const clusterSubmitCommand: Command = {
  path: ['cluster', 'submit'],
  summary: 'submit the unfinished shards of a package as a Slurm array job (sbatch)',
  usage: 'delineate cluster submit --package DIR [--partition P] [--cpus-per-task C] [--mem M] [--time T] [--workers N] [--models DIR] [--retry-failed] [--json]',
  flags: {
    package: { type: 'string', description: 'package folder' },
    partition: { type: 'string', description: 'Slurm partition' },
    'cpus-per-task': { type: 'string', description: 'CPUs per array task' },
    mem: { type: 'string', description: 'memory per task (e.g. 8G)' },
    time: { type: 'string', description: 'time limit per task (e.g. 2:00:00)' },
    workers: { type: 'string', description: 'worker threads per task (default: CPUs per task, at most 2)' },
    models: { type: 'string', description: 'models folder as the nodes see it' },
    'retry-failed': { type: 'boolean', description: 'also resubmit finished shards with failed series, to run those again' },
  },
  run(args): Promise<SubmitResult> {
    const cpus = intFlag(str(args, 'cpus-per-task'), 'cpus-per-task', 1, 4096);
    const workers = intFlag(str(args, 'workers'), 'workers', 1, 64);
    const partition = str(args, 'partition');
    const mem = str(args, 'mem');
    const time = str(args, 'time');
    const models = str(args, 'models');
    return submitPackage(req(args, 'package'), {
      ...(partition !== undefined ? { partition } : {}),
      ...(cpus !== undefined ? { cpusPerTask: cpus } : {}),
      ...(mem !== undefined ? { mem } : {}),
      ...(time !== undefined ? { time } : {}),
      ...(workers !== undefined ? { workers } : {}),
      ...(models !== undefined ? { modelsDir: models } : {}),
      retryFailed: bool(args, 'retry-failed'),
    });
  },
  human(result) {
    const r = result as SubmitResult;
    const lines = [r.jobId ? `submitted job ${r.jobId}: shards ${r.shards.join(', ')} (${r.script})` : 'nothing to submit'];
    for (const s of r.skipped) lines.push(`  shard ${s.index}: ${s.reason}`);
    return lines.join('\n');
  },
};

export const clusterStatusCommand: Command = {
  path: ['cluster', 'status'],
  summary: 'state of each shard of a package (squeue/sacct and the package), log tails of failed shards',
  usage: 'delineate cluster status --package DIR [--json]',
  flags: { package: { type: 'string', description: 'package folder' } },
  async run(args): Promise<PackageStatus> {
    const dir = req(args, 'package');
    try {
      return await packageStatus(dir);
    } catch (e) {
      if (e instanceof DelineateError) throw e;
      throw new DelineateError('internal', `status of package ${dir}: ${(e as Error).message}`, { file: dir });
    }
  },
  human(result) {
    const r = result as PackageStatus;
    const lines = [`package: ${r.state}`];
    for (const s of r.shards) {
      lines.push(`  shard ${s.index}: ${s.state}, ${s.done}/${s.series} done, ${s.failed} failed`);
      if (s.log) lines.push(...s.log.split('\n').map((l) => `      | ${l}`));
    }
    return lines.join('\n');
  },
};
