// CLI conventions (issue: `--help` was an unknown command): help and version print on stdout and
// exit 0; a command line that cannot be understood exits 2; a command that fails exits 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliInProcess as cli } from '../../helpers/cli.js';
import { COMMANDS } from '../../../electron/cli/commands/index.js';
import { tempDir } from '../../helpers/data.js';

const pkgVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test('delineate --help, -h and help list every command and the exit codes, exit 0', async () => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const r = await cli(argv);
    assert.equal(r.code, 0, argv.join(' '));
    assert.equal(r.err, '');
    for (const c of COMMANDS) assert.ok(r.out.includes(`  ${c.path.join(' ')} `), `${argv.join(' ')} lists ${c.path.join(' ')}`);
    assert.match(r.out, /0 success, 1 the command failed .*, 2 usage error/);
  }
});

test('delineate --version prints the package version, exit 0', async () => {
  const r = await cli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.out, `delineate ${pkgVersion}\n`);
});

test('every command answers --help with its usage and options, exit 0, even beside bad options', async () => {
  for (const c of COMMANDS) {
    for (const argv of [[...c.path, '--help'], [...c.path, '--no-such-option', '-h'], ['help', ...c.path]]) {
      const r = await cli(argv);
      assert.equal(r.code, 0, argv.join(' '));
      assert.ok(r.out.startsWith(`usage: ${c.usage}\n`), argv.join(' '));
      for (const flag of Object.keys(c.flags)) assert.ok(r.out.includes(`--${flag}`), `${argv.join(' ')} documents --${flag}`);
    }
  }
});

test('a group word with --help lists its commands; alone it is a usage error', async () => {
  const r = await cli(['review', '--help']);
  assert.equal(r.code, 0);
  for (const verb of ['approve', 'reject', 'reset', 'rerun']) assert.ok(r.out.includes(`delineate review ${verb} `), verb);
  const bare = await cli(['export']);
  assert.equal(bare.code, 2);
  assert.equal(bare.out, '');
  assert.match(bare.err, /delineate export: which one\?[\s\S]*export rtstruct/);
});

test('usage errors exit 2, failures exit 1, with the message on stderr and nothing on stdout', async (t) => {
  const db = join(tempDir(t), 'db.sqlite');
  const cases: [string[], number, RegExp][] = [
    [['no-such-command'], 2, /unknown command: no-such-command/],
    [['series', 'list', '--bogus', '--db', db], 2, /unknown option --bogus/],
    [['template', 'list', '--db'], 2, /option --db needs a value/],
    [['review', 'approve', '--structure', 'X', '--reviewer', 'A', '--db', db], 2, /option --series is required/],
    [['run', '--set', 'HN', '--db', db], 2, /option --series or --all is required/],
    [['review', 'approve', '--series', '1.2.3', '--structure', 'Heart', '--reviewer', 'A', '--db', db, '--json'], 1, /series 1\.2\.3 has no result for structure Heart/],
  ];
  for (const [argv, code, message] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, code, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, message);
    assert.equal(r.out, '');
  }
});

test('the installed entry point sets the process exit status (bin/delineate.js)', () => {
  const bin = new URL('../../../bin/delineate.js', import.meta.url).pathname;
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  const bad = spawnSync(process.execPath, [bin, '--bogus'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command: --bogus/);
});
