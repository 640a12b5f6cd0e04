/**
 * A one-node Slurm cluster on localhost for tests and benchmarks (Debian's slurm-wlm + munge; the
 * recipe in NOTES.md): munged (reused when one already answers), slurmctld and slurmd with a
 * generated slurm.conf whose state, spool, pid and log files live in a private temp folder and whose
 * ports are free ones picked here, so that several clusters can run side by side on one machine.
 * Only the daemons started here are stopped, by their pid files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SlurmCluster {
  conf: string;
  dir: string;
  /** Environment for Slurm commands (SLURM_CONF set). */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function mungeWorks(): boolean {
  const r = spawnSync('sh', ['-c', 'munge -n | unmunge'], { timeout: 5000 });
  return r.status === 0;
}

function pidOf(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Why no cluster can start here, or undefined when it should. */
export function slurmUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'a one-node Slurm cluster needs root (slurmd runs jobs as their user)';
  for (const c of ['munged', 'munge', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'sinfo']) if (!has(c)) return `${c} is not installed (Debian: slurm-wlm munge)`;
  return undefined;
}

export async function startSlurm(dir: string, opts: { cpus?: number } = {}): Promise<SlurmCluster> {
  const why = slurmUnavailable();
  if (why) throw new Error(why);
  mkdirSync(dir, { recursive: true });
  const started: string[] = [];
  let mungePid: string | undefined;
  if (!mungeWorks()) {
    // munged --force: the key's folder permissions are not what munged expects in containers.
    mkdirSync('/run/munge', { recursive: true });
    execFileSync('chown', ['munge:munge', '/run/munge']);
    const pidFile = join(dir, 'munged.pid');
    execFileSync('munged', ['--force', `--pid-file=${pidFile}`], { stdio: 'ignore' });
    mungePid = pidFile;
    for (let i = 0; i < 50 && !mungeWorks(); i++) await sleep(100);
    if (!mungeWorks()) throw new Error('munged started but munge -n | unmunge fails');
  }
  const host = hostname();
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const cpus = opts.cpus ?? 2;
  const conf = join(dir, 'slurm.conf');
  for (const d of ['state', 'spool']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(
    conf,
    [
      `ClusterName=delineate${ctldPort}`,
      `SlurmctldHost=${host}`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      'ReturnToService=2',
      'MpiDefault=none',
      'SchedulerType=sched/backfill',
      'KillWait=5',
      `NodeName=${host} CPUs=${cpus} State=UNKNOWN`,
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const stop = async (): Promise<void> => {
    for (const f of [join(dir, 'slurmd.pid'), join(dir, 'slurmctld.pid'), ...(mungePid ? [mungePid] : [])]) {
      const pid = pidOf(f);
      if (pid && alive(pid)) process.kill(pid, 'SIGTERM');
      for (let i = 0; pid && i < 50 && alive(pid); i++) await sleep(100);
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    }
  };
  try {
    execFileSync('slurmctld', ['-f', conf], { env, stdio: 'ignore' });
    started.push('slurmctld');
    execFileSync('slurmd', ['-f', conf], { env, stdio: 'ignore' });
    started.push('slurmd');
    for (let i = 0; i < 100; i++) {
      const r = spawnSync('sinfo', ['-h', '-o', '%t'], { env, encoding: 'utf8' });
      if (r.status === 0 && /^(idle|mix|alloc)/m.test(r.stdout)) return { conf, dir, env, stop };
      await sleep(200);
    }
    throw new Error(`the Slurm node did not come up within 20 s (see ${dir}/slurmctld.log, slurmd.log)`);
  } catch (e) {
    await stop();
    throw e;
  }
}
