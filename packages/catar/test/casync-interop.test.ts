import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findCasync, makeTempDir, randomBytes, removeTempDir, requirePeer } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATAR_UNIX_FLAGS, encodeCatar, CatarFeatureFlags as F } from '../src/index.js';
import { type BuiltTree, canMknod, makeTree, type TreeNode } from './make-tree.js';

// Archives made by encodeCatar must equal, byte for byte, what Debian's casync 2+20201210
// writes for the same tree and flags. Without casync these tests skip, except in CI, where
// requirePeer throws: a silent skip there would hide the loss.
const casync = requirePeer('casync', findCasync());

// casync adds these three to every `--with` list (measured: a `--with` list replaces the
// default set, and `--without=all` anywhere on the line clears every `--with`).
const ALWAYS = F.SHA512_256 | F.EXCLUDE_NODUMP | F.EXCLUDE_FILE;

interface FlagSet {
  name: string;
  args: string[];
  flags: bigint;
}

const flagSets: FlagSet[] = [
  {
    name: 'unix (32bit-uids, nsec-time, permissions, symlinks, devices, fifos, sockets, xattrs)',
    args: [
      '32bit-uids',
      'nsec-time',
      'permissions',
      'symlinks',
      'device-nodes',
      'fifos',
      'sockets',
      'xattrs',
    ].map((w) => `--with=${w}`),
    flags: CATAR_UNIX_FLAGS,
  },
  { name: '--without=all', args: ['--without=all'], flags: ALWAYS },
  {
    name: '16bit-uids, sec-time, read-only, symlinks',
    args: ['--with=16bit-uids', '--with=sec-time', '--with=read-only', '--with=symlinks'],
    flags: ALWAYS | F.WITH_16BIT_UIDS | F.WITH_SEC_TIME | F.WITH_READ_ONLY | F.WITH_SYMLINKS,
  },
  {
    name: 'usec-time, permissions, fifos',
    args: ['--with=usec-time', '--with=permissions', '--with=fifos'],
    flags: ALWAYS | F.WITH_USEC_TIME | F.WITH_PERMISSIONS | F.WITH_FIFOS,
  },
  {
    name: '2sec-time, read-only, sockets, device-nodes',
    args: ['--with=2sec-time', '--with=read-only', '--with=sockets', '--with=device-nodes'],
    flags: ALWAYS | F.WITH_2SEC_TIME | F.WITH_READ_ONLY | F.WITH_SOCKETS | F.WITH_DEVICE_NODES,
  },
];

const KiB = 1024;

const trees: { name: string; nodes: TreeNode[] }[] = [
  { name: 'an empty directory', nodes: [] },
  { name: 'one file', nodes: [{ kind: 'file', path: 'file', data: randomBytes(10, 1) }] },
  {
    name: 'nested directories',
    nodes: [
      { kind: 'dir', path: 'a' },
      { kind: 'dir', path: 'a/b' },
      { kind: 'dir', path: 'a/b/c' },
      { kind: 'file', path: 'a/b/c/deep' },
      { kind: 'dir', path: 'a/empty' },
      { kind: 'file', path: 'a/x' },
      { kind: 'dir', path: 'z' },
      { kind: 'file', path: 'z/y' },
    ],
  },
  {
    name: 'files of 0, 1, 100 KiB and 200 KiB + 1 bytes',
    nodes: [
      { kind: 'file', path: 'empty', data: new Uint8Array(0) },
      { kind: 'file', path: 'one', data: randomBytes(1, 2) },
      { kind: 'file', path: 'hundred-kib', data: randomBytes(100 * KiB, 3) },
      { kind: 'file', path: 'two-hundred-kib-plus', data: randomBytes(200 * KiB + 1, 4) },
    ],
  },
  {
    name: 'symlinks, a FIFO and a socket',
    nodes: [
      { kind: 'file', path: 'target' },
      { kind: 'symlink', path: 'rel', target: 'target' },
      { kind: 'symlink', path: 'dangling', target: 'does/not/exist' },
      { kind: 'symlink', path: 'abs', target: `/${'long-target/'.repeat(40)}end` },
      { kind: 'fifo', path: 'fifo', mode: 0o640 },
      { kind: 'socket', path: 'sock' },
    ],
  },
  {
    name: 'names that need byte-order sorting',
    nodes: [
      'B',
      'a',
      '_',
      'a.b',
      'a-b',
      'A',
      '0',
      ' space',
      'Z~',
      'x'.repeat(255),
      'ü',
      'u\u0308',
      'é',
      '日本語',
      '😀',
      'a\tb',
    ].map((path): TreeNode => ({ kind: 'file', path })),
  },
  {
    name: 'extended attributes on files and directories',
    nodes: [
      { kind: 'dir', path: 'd', xattrs: { 'user.dir': 'D', 'user.empty': '' } },
      {
        kind: 'file',
        path: 'd/f',
        xattrs: {
          'user.zeta': 'last',
          'user.alpha': 'first',
          'user.bin': Uint8Array.of(0, 1, 2, 255, 0),
          'user.Upper': 'sorted by bytes',
          ...(process.getuid?.() === 0 ? { 'trusted.t': 'root only' } : {}),
        },
      },
      { kind: 'file', path: 'big', xattrs: { 'user.big': 'v'.repeat(3000) } },
      { kind: 'file', path: 'plain' },
      { kind: 'symlink', path: 'link', target: 'plain' },
      { kind: 'fifo', path: 'fifo' },
    ],
  },
  {
    name: '.caexclude files (negation, anchoring, nesting, periods, directory-only)',
    nodes: [
      {
        kind: 'file',
        path: '.caexclude',
        data: '*.log\n!keep.log\n# comment\n\n/c/q.txt\nbuild/\n[x-z]?.tmp\n',
      },
      { kind: 'file', path: 'x.log' },
      { kind: 'file', path: 'keep.log' },
      { kind: 'file', path: '.dot.log' },
      { kind: 'file', path: 'y.txt' },
      { kind: 'file', path: 'build' },
      { kind: 'file', path: 'xa.tmp' },
      { kind: 'file', path: 'ab.tmp' },
      { kind: 'dir', path: 'a' },
      { kind: 'file', path: 'a/.caexclude', data: '!z.log\nb/k.txt\n' },
      { kind: 'file', path: 'a/z.log' },
      { kind: 'dir', path: 'a/b' },
      { kind: 'file', path: 'a/b/w.log' },
      { kind: 'file', path: 'a/b/k.txt' },
      { kind: 'dir', path: 'a/build' },
      { kind: 'file', path: 'a/build/out' },
      { kind: 'dir', path: 'c' },
      { kind: 'file', path: 'c/q.txt' },
      { kind: 'dir', path: 'c/build' },
      { kind: 'dir', path: 'skipped.log' },
      { kind: 'file', path: 'skipped.log/inside' },
    ],
  },
  {
    name: 'chattr +d (nodump) files and directories',
    nodes: [
      { kind: 'file', path: 'dumped' },
      { kind: 'file', path: 'nodump', nodump: true },
      { kind: 'dir', path: 'nodir', nodump: true },
      { kind: 'file', path: 'nodir/inside' },
    ],
  },
  {
    name: 'modes and owners',
    nodes: [
      { kind: 'file', path: 'm0600', mode: 0o600 },
      { kind: 'file', path: 'm0755', mode: 0o755 },
      { kind: 'file', path: 'm0444', mode: 0o444 },
      { kind: 'file', path: 'm0000', mode: 0o000 },
      { kind: 'file', path: 'm4755', mode: 0o4755 },
      { kind: 'file', path: 'm2711', mode: 0o2711 },
      { kind: 'dir', path: 'd1777', mode: 0o1777 },
      { kind: 'dir', path: 'd0555', mode: 0o555 },
      { kind: 'dir', path: 'd0700', mode: 0o700 },
      { kind: 'file', path: 'owned', owner: [1000, 1000] },
      { kind: 'file', path: 'nobody', owner: [65534, 100] },
    ],
  },
];

describe.skipIf(!casync)('encodeCatar matches casync make byte for byte', () => {
  let work: string;
  let mknodWorks = false;
  const built: BuiltTree[] = [];

  beforeAll(async () => {
    work = await makeTempDir('desync-catar-');
    mknodWorks = canMknod(work);
  });
  afterAll(async () => {
    for (const t of built) await t.close();
    await removeTempDir(work);
  });

  async function compare(root: string, set: FlagSet, label: string, blockSize?: number): Promise<void> {
    const out = join(work, `${label}.catar`);
    await promisify(execFile)(casync!, ['make', ...set.args, out, root]);
    const theirs = await readFile(out);
    const parts: Uint8Array[] = [];
    for await (const b of encodeCatar(root, { featureFlags: set.flags, blockSize })) parts.push(b);
    const ours = Buffer.concat(parts);
    expect(ours.length).toBe(theirs.length);
    // Comparing as hex keeps a mismatch readable and points at the first differing byte.
    expect(ours.equals(theirs) ? '' : firstDifference(ours, theirs)).toBe('');
  }

  for (const [t, tree] of trees.entries()) {
    for (const [s, set] of flagSets.entries()) {
      it(`${tree.name}, ${set.name}`, async () => {
        const root = join(work, `t${t}-s${s}`);
        built.push(await makeTree(root, tree.nodes, t + 1));
        await compare(root, set, `t${t}-s${s}`);
      });
    }
  }

  it('gives the same bytes whatever the read block size', async () => {
    const root = join(work, 'blocks');
    built.push(await makeTree(root, trees[3].nodes, 9));
    await compare(root, flagSets[0], 'blocks', 7);
  });

  it('encodes every kind of node in one tree under every flag set', async () => {
    const root = join(work, 'all');
    built.push(
      await makeTree(
        root,
        trees.flatMap((t, i) => prefix(`t${i}`, t.nodes)),
        11,
      ),
    );
    for (const [s, set] of flagSets.entries()) await compare(root, set, `all-s${s}`);
  });

  it('encodes character and block devices (needs mknod; skipped when it fails)', async (ctx) => {
    if (!mknodWorks) ctx.skip();
    const root = join(work, 'dev');
    built.push(
      await makeTree(
        root,
        [
          { kind: 'chardev', path: 'null', major: 1, minor: 3 },
          { kind: 'chardev', path: 'big', major: 4095, minor: 1_000_000 },
          { kind: 'blockdev', path: 'loop', major: 7, minor: 200 },
          { kind: 'file', path: 'plain' },
        ],
        12,
      ),
    );
    for (const [s, set] of flagSets.entries()) await compare(root, set, `dev-s${s}`);
  });
});

function prefix(dir: string, nodes: TreeNode[]): TreeNode[] {
  return [{ kind: 'dir', path: dir }, ...nodes.map((n) => ({ ...n, path: `${dir}/${n.path}` }))];
}

function firstDifference(a: Buffer, b: Buffer): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 16);
  return `first difference at byte ${i}: ours ${a.subarray(from, i + 32).toString('hex')} casync ${b
    .subarray(from, i + 32)
    .toString('hex')}`;
}
