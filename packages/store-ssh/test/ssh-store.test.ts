import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChunkId, ChunkMissing, isChunkId, StoreError } from '@desync/core';
import {
  findCasync,
  makeTempDir,
  removeTempDir,
  requirePeer,
  runCasync,
  sshPeers,
  startSshd,
  type TestSshd,
} from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshStore, type SshStoreOptions } from '../src/ssh-store.js';

const peers = sshPeers();
const casync = requirePeer('casync', findCasync());

/** Every chunk id in a casync store directory. */
async function storeIds(store: string): Promise<ChunkId[]> {
  const ids: ChunkId[] = [];
  for (const prefix of await readdir(store)) {
    for (const file of await readdir(join(store, prefix))) {
      const id = file.replace(/\.cacnk$/, '');
      if (isChunkId(id)) ids.push(id);
    }
  }
  return ids.sort();
}

describe.skipIf(!peers || !casync)('SshStore against casync pull over a real sshd', () => {
  let sshd: TestSshd;
  let work: string;
  let store: string;
  let ids: ChunkId[];
  const opened: SshStore[] = [];

  beforeAll(async () => {
    sshd = await startSshd(peers!);
    work = await makeTempDir('desync-store-ssh-');
    store = join(work, 'casync store');
    await writeFile(join(work, 'blob'), randomBytes(1024 * 1024));
    await runCasync(['make', `--store=${store}`, join(work, 'blob.caibx'), join(work, 'blob')], { casync });
    ids = await storeIds(store);
  });

  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await sshd?.stop();
    if (work) await removeTempDir(work);
  });

  const open = (options: Partial<SshStoreOptions> = {}): SshStore => {
    const s = new SshStore({
      location: `ssh://${sshd.user}@127.0.0.1:${sshd.port}${store}`,
      remotePath: casync!,
      identityFiles: [sshd.userKey],
      knownHostsFiles: [sshd.knownHosts],
      agent: false,
      sshPath: '',
      ...options,
    });
    opened.push(s);
    return s;
  };

  it('reads every chunk of a store casync made, verified, with the built-in client', async () => {
    const s = open({ concurrency: 3 });
    const sizes = await Promise.all(ids.map(async (id) => (await (await s.getChunk(id)).plainData()).length));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1024 * 1024);
  });

  it('reports a chunk the remote does not hold as missing', async () => {
    const s = open();
    const absent = 'ab'.repeat(32) as ChunkId;
    expect(await s.hasChunk(absent)).toBe(false);
    expect(await s.hasChunk(ids[0])).toBe(true);
    const err = await s.getChunk('cd'.repeat(32) as ChunkId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChunkMissing);
  });

  it('reads through an ssh command (CASYNC_SSH_PATH transport)', async () => {
    const s = open({ location: `127.0.0.1:${store}`, sshPath: await sshd.sshWrapper(true), concurrency: 2 });
    for (const id of ids.slice(0, 5)) await (await s.getChunk(id)).plainData();
  });

  it('passes the port of an ssh:// location to the ssh command as -p', async () => {
    const s = open({ sshPath: await sshd.sshWrapper(false) });
    await (await s.getChunk(ids[1])).plainData();
  });

  it('refuses an unknown host key and says how to accept it', async () => {
    const empty = join(work, 'empty_known_hosts');
    await writeFile(empty, '');
    const err = (await open({ knownHostsFiles: [empty] })
      .getChunk(ids[0])
      .catch((e: unknown) => e)) as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain(`ssh-keyscan -p ${sshd.port}`);
    expect(err.message).toContain('--ssh-skip-host-key-check');
    expect(err.message).toContain(`[127.0.0.1]:${sshd.port}`);
  });

  it('refuses a changed host key', async () => {
    const other = join(work, 'other_known_hosts');
    await writeFile(
      other,
      `[127.0.0.1]:${sshd.port} ssh-ed25519 ${Buffer.concat([Buffer.from('0000000b7373682d6564323535313900000020', 'hex'), randomBytes(32)]).toString('base64')}\n`,
    );
    const err = (await open({ knownHostsFiles: [other] })
      .getChunk(ids[0])
      .catch((e: unknown) => e)) as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toMatch(/is not the one in .*other_known_hosts line 1/);
    expect(err.message).toContain('ssh-keygen -R');
  });

  it('accepts a hashed known_hosts entry, and any key with skipHostKeyCheck', async () => {
    const hashed = join(work, 'hashed_known_hosts');
    await writeFile(hashed, await import('node:fs/promises').then((fs) => fs.readFile(sshd.knownHosts)));
    const { execFile } = await import('node:child_process');
    await new Promise((resolve, reject) =>
      execFile(peers!.sshKeygen, ['-H', '-f', hashed], (err) => (err ? reject(err) : resolve(undefined))),
    );
    await (await open({ knownHostsFiles: [hashed] }).getChunk(ids[0])).plainData();
    await (await open({ knownHostsFiles: [], skipHostKeyCheck: true }).getChunk(ids[0])).plainData();
  });

  it('explains a failed login', async () => {
    const stranger = join(work, 'stranger_key');
    const { execFile } = await import('node:child_process');
    await new Promise((resolve, reject) =>
      execFile(peers!.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', stranger], (err) =>
        err ? reject(err) : resolve(undefined),
      ),
    );
    const err = (await open({ identityFiles: [stranger] })
      .getChunk(ids[0])
      .catch((e: unknown) => e)) as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain(`SSH login as ${sshd.user} failed`);
  });

  it('fails with a StoreError naming the host when the remote command does not exist', async () => {
    const err = (await open({ remotePath: '/nonexistent/casync' })
      .getChunk(ids[0])
      .catch((e: unknown) => e)) as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain('127.0.0.1');
    expect(err.message).toMatch(/closed the connection before HELLO/);
  });

  it('casync pull answers an id once per session; repeats still succeed', async () => {
    const s = open({ concurrency: 1 });
    for (let i = 0; i < 3; i++) await (await s.getChunk(ids[2])).plainData();
  });

  it('removes nothing from the store', async () => {
    expect(await storeIds(store)).toEqual(ids);
    await rm(join(work, 'nothing'), { force: true });
  });
});
