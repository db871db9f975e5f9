import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findCasync, makeTempDir, randomBytes, removeTempDir, requirePeer, runCasync } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATAR_UNIX_FLAGS, extractCatar, writeCatar } from '../src/index.js';
import { type BuiltTree, makeTree, type TreeNode } from './make-tree.js';
import { snapshotTree } from './snapshot-tree.js';

// Archives casync makes with its DEFAULT flags (user names, xattrs, SELinux, chattr flags...)
// must extract with extractCatar to the same tree casync extract gives, and archives of our
// encoder must extract with casync to the original tree. Skips without casync, fails in CI.
const casync = requirePeer('casync', findCasync());
const run = promisify(execFile);

const nodes: TreeNode[] = [
  { kind: 'file', path: 'a', data: randomBytes(70_000, 31) },
  { kind: 'dir', path: 'd', xattrs: { 'user.dir': 'on a directory' } },
  {
    kind: 'file',
    path: 'd/xattr',
    data: Buffer.from('with xattrs'),
    xattrs: {
      'user.desync': 'test',
      'user.bin': Uint8Array.of(0, 255),
      ...(process.getuid?.() === 0 ? { 'trusted.root': 'only root sets these' } : {}),
    },
  },
  { kind: 'dir', path: 'd/ro', mode: 0o555 },
  { kind: 'file', path: 'd/ro/f', mode: 0o600 },
  { kind: 'symlink', path: 'link', target: 'd/xattr' },
  { kind: 'fifo', path: 'pipe', mode: 0o600 },
  { kind: 'file', path: 'setuid', mode: 0o4711, owner: [1000, 1000] },
];

describe.skipIf(!casync)('extraction interoperates with casync', () => {
  let work: string;
  let src: string;
  let built: BuiltTree;

  beforeAll(async () => {
    work = await makeTempDir('desync-extract-interop-');
    src = join(work, 'src');
    built = await makeTree(src, nodes, 41);
  });
  afterAll(async () => {
    await built.close();
    await removeTempDir(work);
  });

  it('extracts what casync make writes with its default flags', async () => {
    const archive = join(work, 'default.catar');
    await runCasync(['make', archive, src]);
    const out = join(work, 'ours');
    const skipped: string[] = [];
    await extractCatar(createReadStream(archive), out, { onSkip: (k) => skipped.push(k) });
    expect(await snapshotTree(out)).toEqual(await snapshotTree(src));
    await run('diff', ['-r', '--no-dereference', src, out]).catch((e: { stdout: string }) => {
      // diff reports FIFOs as "is a fifo while ... is a fifo" (exit 1) but nothing else may differ.
      expect(e.stdout.split('\n').filter((l) => l !== '' && !l.includes('is a fifo'))).toEqual([]);
    });
    // casync's default flags include xattrs: they are restored, not skipped.
    expect(skipped).not.toContain('xattr');
    expect(new Set(skipped).size).toBe(skipped.length);
  });

  it('casync extract gives back the original tree from our archive', async () => {
    const archive = join(work, 'ours.catar');
    await writeCatar(src, archive, { featureFlags: CATAR_UNIX_FLAGS });
    const out = join(work, 'theirs');
    await runCasync(['extract', archive, out]);
    expect(await snapshotTree(out)).toEqual(await snapshotTree(src));
  });

  it('extracts casync archives the same way casync extract does', async () => {
    const archive = join(work, 'unix.catar');
    await writeCatar(src, archive, { featureFlags: CATAR_UNIX_FLAGS });
    const ours = join(work, 'x-ours');
    const theirs = join(work, 'x-theirs');
    await extractCatar(createReadStream(archive), ours);
    await runCasync(['extract', archive, theirs]);
    expect(await snapshotTree(ours)).toEqual(await snapshotTree(theirs));
  });
});
