import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { EXIT_CODES } from '@desync/core';
import { repoRoot } from '@desync/testkit';
import { describe, expect, it } from 'vitest';
import { desyncOk, expectOneLineError, runDesync } from './helpers.js';

const COMMANDS = [
  'cache',
  'cat',
  'chop',
  'chunk',
  'chunk-server',
  'config',
  'extract',
  'info',
  'list',
  'list-chunks',
  'make',
  'mount-index',
  'prune',
  'tar',
  'untar',
  'verify',
  'verify-index',
];

describe('help and version', () => {
  it('lists every command in the top-level help', async () => {
    const { stdout } = await desyncOk(['--help']);
    const text = stdout.toString();
    const section = text.slice(text.indexOf('COMMANDS'));
    const listed = [...section.matchAll(/^ {2}(\S+) {2,}/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual(COMMANDS);
  });

  it.each(COMMANDS)('shows usage and an example for %s --help', async (command) => {
    const { stdout } = await desyncOk([command, '--help']);
    const text = stdout.toString();
    expect(text).toContain('USAGE');
    expect(text).toContain(`$ desync ${command}`);
    const examples = text.slice(text.indexOf('EXAMPLES'));
    expect(text).toContain('EXAMPLES');
    expect(examples).toMatch(new RegExp(`\\$ desync ${command} \\S`));
  });

  it('prints the package version with --version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    const { stdout } = await desyncOk(['--version']);
    expect(stdout.toString()).toMatch(new RegExp(`^desync/${pkg.version.replaceAll('.', '\\.')} `));
  });

  it('runs as pnpm desync from the repository root', async () => {
    const { stdout } = await promisify(execFile)('pnpm', ['--silent', 'desync', '--help'], {
      cwd: repoRoot(),
      env: { ...process.env, DESYNC_DEBUG: undefined },
    });
    expect(stdout).toContain('USAGE');
    expect(stdout).toContain('$ desync [COMMAND]');
  });
});

describe('usage errors', () => {
  it.each([
    {
      what: 'an unknown flag',
      args: ['extract', '--bogus', '-s', 'S', 'x.caibx', 'out'],
      mentions: ['--bogus'],
    },
    { what: 'a missing required flag', args: ['extract', 'x.caibx', 'out'], mentions: ['store'] },
    { what: 'a missing argument', args: ['prune', '-s', 'S', '-y'], mentions: ['index'] },
    {
      what: 'a flag value out of range',
      args: ['extract', '-n', '0', '-s', 'S', 'x.caibx', 'out'],
      mentions: ['--concurrency'],
    },
    { what: 'an extra argument', args: ['list-chunks', 'a.caibx', 'b.caibx'], mentions: ['b.caibx'] },
  ])('rejects $what with one line naming it', async ({ args, mentions }) => {
    const result = await runDesync(args);
    expectOneLineError(result, mentions);
    expect(result.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
  });
});
