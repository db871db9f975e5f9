import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseChunkId } from '@desync/core';
import { encodeMessage, ProtocolFeature, readMessages } from '@desync/store-ssh';
import {
  cliBinPath,
  makeTempDir,
  removeTempDir,
  runCasync,
  sshPeers,
  startSshd,
  type TestSshd,
} from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  casyncPeer,
  chunkPath,
  desyncOk,
  exists,
  expectOneLineError,
  runDesync,
  storeIds,
} from './helpers.js';

const { casync, missingInCi } = casyncPeer();
const peers = sshPeers();

const HELLO_PULL = encodeMessage({ type: 'hello', features: ProtocolFeature.PULL_CHUNKS });
const GOODBYE = encodeMessage({ type: 'goodbye' });
const request = (ids: string[]): Buffer =>
  encodeMessage({ type: 'request', highPriority: false, ids: ids.map((id) => parseChunkId(id)) });

/** Message types of a byte stream of protocol messages. */
async function messageTypes(bytes: Buffer): Promise<string[]> {
  const types: string[] = [];
  try {
    for await (const m of readMessages([bytes], 'desync pull')) types.push(m.type);
  } catch {
    types.push('(malformed)');
  }
  return types;
}

describe('desync pull over stdin/stdout', () => {
  let work: string;
  beforeAll(async () => {
    work = await makeTempDir('desync-pull-');
    const blob = join(work, 'served');
    await writeFile(blob, randomBytes(200_000));
    await desyncOk(['make', '-s', join(work, 'store'), join(work, 'served.caibx'), blob]);
  });
  afterAll(async () => {
    await removeTempDir(work);
  });

  it('has help text', async () => {
    const { stdout } = await desyncOk(['pull', '--help']);
    expect(stdout.toString()).toContain('USAGE');
    expect(stdout.toString()).toContain('$ desync pull - - - /var/store');
  });

  it('answers HELLO, REQUEST and GOODBYE from a client on stdin', async () => {
    const store = join(work, 'store');
    const ids = await storeIds(store);
    const missing = 'ab'.repeat(32);
    const input = Buffer.concat([HELLO_PULL, request([...ids, missing]), GOODBYE]);
    const r = await desyncOk(['pull', '-', '-', '-', store], { input });
    const types = await messageTypes(r.stdout);
    expect(types[0]).toBe('hello');
    expect(types.filter((t) => t === 'chunk')).toHaveLength(ids.length);
    expect(types.filter((t) => t === 'missing')).toHaveLength(1);
  });

  it('exits after GOODBYE even when the client keeps its side open', async () => {
    const store = join(work, 'store');
    const child = spawn(process.execPath, [cliBinPath(), 'pull', '-', '-', '-', store], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (piece: Buffer) => out.push(piece));
    child.stdin.write(Buffer.concat([HELLO_PULL, request([(await storeIds(store))[0]]), GOODBYE]));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    child.stdin.destroy();
    expect(code).toBe(0);
    expect(await messageTypes(Buffer.concat(out))).toEqual(['hello', 'chunk']);
  });

  it('sends ABORT and exits non-zero on malformed input', async () => {
    const store = join(work, 'store');
    const r = await runDesync(['pull', '-', '-', '-', store], {
      input: Buffer.concat([HELLO_PULL, Buffer.from('ffffffffffffffff0000000000000000', 'hex')]),
    });
    expectOneLineError(r, ['protocol error']);
    expect(await messageTypes(r.stdout)).toEqual(['hello', 'abort']);
  });

  it('serves an index file (casync pull - - INDEX -), alone or with a store', async () => {
    const index = join(work, 'served.caibx');
    const pullIndex = encodeMessage({ type: 'hello', features: ProtocolFeature.PULL_INDEX });
    for (const args of [
      ['pull', '-', '-', index, '-'],
      ['pull', '--rate-limit-bps=1000', '-', '-', index, join(work, 'store')],
    ]) {
      const r = await desyncOk(args, { input: Buffer.concat([pullIndex, GOODBYE]) });
      const data: Buffer[] = [];
      const types: string[] = [];
      for await (const m of readMessages([r.stdout], 'desync pull')) {
        types.push(m.type);
        if (m.type === 'index') data.push(Buffer.from(m.data));
      }
      expect(types[0]).toBe('hello');
      expect(types.at(-1)).toBe('index-eof');
      expect(Buffer.concat(data).equals(await readFile(index))).toBe(true);
    }
  });

  it('refuses to serve an index or a store that does not exist', async () => {
    expectOneLineError(await runDesync(['pull', '-', '-', 'x.caibx', join(work, 'store')]), ['index']);
    expectOneLineError(await runDesync(['pull', '-', '-', '-', join(work, 'no-such-store')]), [
      'no-such-store',
    ]);
  });
});

describe.skipIf(!casync || !peers)('ssh stores against a real sshd', () => {
  if (missingInCi) throw missingInCi;
  let sshd: TestSshd;
  let work: string;
  let store: string;
  let blob: Buffer;
  let index: string;
  /** Runs our CLI's pull on the remote (CASYNC_REMOTE_PATH). */
  let desyncRemote: string;
  /** Our pull, cut off after 300 kB: a remote that dies mid-transfer. */
  let dyingRemote: string;

  beforeAll(async () => {
    sshd = await startSshd(peers!);
    work = await makeTempDir('desync-pull-ssh-');
    store = join(work, 'store');
    blob = randomBytes(3 * 1024 * 1024);
    await writeFile(join(work, 'blob'), blob);
    index = join(work, 'blob.caibx');
    await runCasync(['make', `--store=${store}`, index, join(work, 'blob')], { casync });
    desyncRemote = join(work, 'desync-remote');
    await writeFile(desyncRemote, `#!/bin/sh\nexec '${process.execPath}' '${cliBinPath()}' "$@"\n`, {
      mode: 0o755,
    });
    dyingRemote = join(work, 'dying-remote');
    // head buffers its output unless told not to (stdbuf -o0).
    // After 300 kB the whole remote session (its own process group under sshd) is killed, as a
    // crash would; outside an ssh session the script refuses to run, so it never kills the tests.
    await writeFile(
      dyingRemote,
      `#!/bin/sh\n[ -n "$SSH_CONNECTION" ] || exit 1\n'${process.execPath}' '${cliBinPath()}' "$@" | { stdbuf -o0 head -c 300000; kill -9 0; }\n`,
      { mode: 0o755 },
    );
  });

  afterAll(async () => {
    await sshd?.stop();
    if (work) await removeTempDir(work);
  });

  const sshUrl = (path: string): string => `ssh://${sshd.user}@127.0.0.1:${sshd.port}${path}`;
  /** Environment of our CLI: the fake HOME holds the key and known_hosts; no agent. */
  const cliEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    HOME: sshd.home,
    SSH_AUTH_SOCK: undefined,
    CASYNC_SSH_PATH: undefined,
    CASYNC_REMOTE_PATH: desyncRemote,
    ...extra,
  });

  it('casync extract reads a store served by desync pull', async () => {
    const out = join(work, 'casync-out');
    await runCasync(['extract', `--store=127.0.0.1:${store}`, index, out], {
      casync,
      env: { CASYNC_SSH_PATH: await sshd.sshWrapper(true), CASYNC_REMOTE_PATH: desyncRemote },
    });
    expect((await readFile(out)).equals(blob)).toBe(true);
  });

  it('desync extract reads from desync pull with the built-in ssh client', async () => {
    const out = join(work, 'ours-ssh2');
    await desyncOk(['extract', '-s', sshUrl(store), index, out], { env: cliEnv() });
    expect((await readFile(out)).equals(blob)).toBe(true);
  });

  it('desync extract reads from casync pull with the built-in ssh client', async () => {
    const out = join(work, 'ours-ssh2-casync');
    await desyncOk(['extract', '-n', '4', '-s', sshUrl(store), index, out], {
      env: cliEnv({ CASYNC_REMOTE_PATH: casync }),
    });
    expect((await readFile(out)).equals(blob)).toBe(true);
  });

  it('desync extract reads casync-style host:/path through CASYNC_SSH_PATH', async () => {
    const env = cliEnv({ CASYNC_SSH_PATH: await sshd.sshWrapper(true) });
    for (const remote of [casync!, desyncRemote]) {
      const out = join(work, 'ours-command');
      await desyncOk(['extract', '-s', `127.0.0.1:${store}`, index, out], {
        env: { ...env, CASYNC_REMOTE_PATH: remote },
      });
      expect((await readFile(out)).equals(blob)).toBe(true);
      await rm(out);
    }
  });

  it('refuses an unknown host key in one line, and --ssh-skip-host-key-check accepts it', async () => {
    const home = join(work, 'home-without-known-hosts');
    await cp(sshd.home, home, { recursive: true });
    await rm(join(home, '.ssh', 'known_hosts'));
    const out = join(work, 'unknown-key');
    const r = await runDesync(['extract', '-s', sshUrl(store), index, out], { env: cliEnv({ HOME: home }) });
    expectOneLineError(r, ['ssh-keyscan', '--ssh-skip-host-key-check']);
    expect(await exists(out)).toBe(false);
    await desyncOk(['extract', '--ssh-skip-host-key-check', '-s', sshUrl(store), index, out], {
      env: cliEnv({ HOME: home }),
    });
    expect((await readFile(out)).equals(blob)).toBe(true);
  });

  it('desync extract reads an ssh:// index from casync pull and from desync pull', async () => {
    for (const remote of [casync!, desyncRemote]) {
      const out = join(work, 'ours-ssh-index');
      await desyncOk(['extract', '-s', sshUrl(store), sshUrl(index), out], {
        env: cliEnv({ CASYNC_REMOTE_PATH: remote }),
      });
      expect((await readFile(out)).equals(blob)).toBe(true);
      await rm(out);
    }
  });

  it('casync extract reads a host:/path index served by desync pull', async () => {
    const out = join(work, 'casync-remote-index-out');
    await runCasync(['extract', `--store=127.0.0.1:${store}`, `127.0.0.1:${index}`, out], {
      casync,
      env: { CASYNC_SSH_PATH: await sshd.sshWrapper(true), CASYNC_REMOTE_PATH: desyncRemote },
    });
    expect((await readFile(out)).equals(blob)).toBe(true);
  });

  it('untar -i and list read a .caidx and its chunks over ssh', async () => {
    const tree = join(work, 'tree');
    await mkdir(join(tree, 'sub'), { recursive: true });
    await writeFile(join(tree, 'a.txt'), 'hello\n');
    await writeFile(join(tree, 'sub', 'b.bin'), blob.subarray(0, 300_000));
    const treeStore = join(work, 'tree-store');
    const caidx = join(work, 'tree.caidx');
    await runCasync(['make', `--store=${treeStore}`, caidx, tree], { casync });
    const out = join(work, 'tree-out');
    await desyncOk(['untar', '-i', '-s', sshUrl(treeStore), sshUrl(caidx), out], {
      env: cliEnv({ CASYNC_REMOTE_PATH: casync }),
    });
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('hello\n');
    expect((await readFile(join(out, 'sub', 'b.bin'))).equals(blob.subarray(0, 300_000))).toBe(true);
    const listed = await desyncOk(['list', '-s', sshUrl(treeStore), sshUrl(caidx)], { env: cliEnv() });
    expect(listed.stdout.toString()).toContain('300000 sub/b.bin');
  });

  it('a missing remote index fails in one line naming it, for either remote', async () => {
    for (const remote of [casync!, desyncRemote]) {
      const out = join(work, 'no-index-out');
      const r = await runDesync(['extract', '-s', sshUrl(store), sshUrl(join(work, 'nope.caibx')), out], {
        env: cliEnv({ CASYNC_REMOTE_PATH: remote }),
      });
      expectOneLineError(r, ['nope.caibx']);
      expect(r.stderr).toMatch(/No such file|no such file/);
      expect(await exists(out)).toBe(false);
    }
  });

  it('a chunk missing on the remote fails the extract, naming the chunk', async () => {
    const partial = join(work, 'partial-store');
    await cp(store, partial, { recursive: true });
    const [gone] = await storeIds(partial);
    await rm(chunkPath(partial, gone));
    const out = join(work, 'missing-out');
    const ours = await runDesync(['extract', '-s', sshUrl(partial), index, out], { env: cliEnv() });
    expectOneLineError(ours, [gone]);
    expect(ours.code).toBe(3);
    expect(await exists(out)).toBe(false);
    await expect(
      runCasync(['extract', `--store=127.0.0.1:${partial}`, index, join(work, 'casync-missing-out')], {
        casync,
        env: { CASYNC_SSH_PATH: await sshd.sshWrapper(true), CASYNC_REMOTE_PATH: desyncRemote },
      }),
    ).rejects.toThrow();
  });

  it('a remote that dies mid-transfer fails the extract clearly and leaves no output', async () => {
    const out = join(work, 'dying-out');
    const r = await runDesync(['extract', '-n', '1', '-s', sshUrl(store), index, out], {
      env: cliEnv({ CASYNC_REMOTE_PATH: dyingRemote }),
    });
    expectOneLineError(r, ['127.0.0.1']);
    expect(r.stderr).toMatch(/closed|middle of a message/);
    expect(await exists(out)).toBe(false);
  });
});
