import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type ChunkId, type Store, StoreError } from '@desync/core';
import { LocalStore } from '@desync/store-local';
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
import { readMessages } from '../src/message-reader.js';
import { ProtocolFeature } from '../src/protocol-constants.js';
import { encodeMessage, type ProtocolMessage } from '../src/protocol-message.js';
import type { RemotePipes } from '../src/pull-session.js';
import { servePull } from '../src/serve-pull.js';
import { pullIndex, readSshIndex } from '../src/ssh-index.js';
import { inProcessPipes } from './in-process-pipes.js';

/** Pipes whose remote sends `bytes` and then ends, whatever it is sent. */
function scriptedPipes(bytes: Uint8Array[], stderr = ''): RemotePipes {
  const stdout = new PassThrough();
  for (const b of bytes) stdout.write(b);
  stdout.end();
  const stdin = new PassThrough();
  stdin.resume();
  return { stdout, stdin, stderrTail: () => stderr, settle: async () => {}, close: () => stdin.end() };
}

/** What servePull answers a client that sends `input`. */
async function answersTo(input: Uint8Array[], index: Uint8Array, store?: Store): Promise<ProtocolMessage[]> {
  const output = new PassThrough();
  const served = servePull(store, input, output, { index: async () => index }).catch(() => undefined);
  const out: ProtocolMessage[] = [];
  for await (const m of readMessages(output, 'server')) out.push(m);
  await served;
  return out;
}

describe('pulling an index with casync protocol', () => {
  it('gets the served bytes whole, over many INDEX messages', async () => {
    const index = randomBytes(300_000);
    const pipes = inProcessPipes(undefined, { index: async () => index });
    expect(Buffer.from(await pullIndex(pipes, 'peer')).equals(index)).toBe(true);
    pipes.close();
    expect(await pipes.served).toBeUndefined();
  });

  it('serves an empty index as HELLO, then INDEX_EOF', async () => {
    const types = (
      await answersTo(
        [
          encodeMessage({ type: 'hello', features: ProtocolFeature.PULL_INDEX }),
          encodeMessage({ type: 'goodbye' }),
        ],
        new Uint8Array(0),
      )
    ).map((m) => m.type);
    expect(types).toEqual(['hello', 'index-eof']);
  });

  it('offers a readable index and store when it has both, and serves chunks after the index', async () => {
    const dir = await makeTempDir('desync-ssh-index-');
    try {
      const store = new LocalStore({ path: join(dir, 'store') });
      const answers = await answersTo(
        [
          encodeMessage({
            type: 'hello',
            features: ProtocolFeature.PULL_INDEX | ProtocolFeature.PULL_CHUNKS,
          }),
          encodeMessage({ type: 'request', highPriority: false, ids: ['ab'.repeat(32) as ChunkId] }),
          encodeMessage({ type: 'goodbye' }),
        ],
        Buffer.from('index bytes'),
        store,
      );
      const hello = answers[0];
      expect(hello?.type === 'hello' && hello.features).toBe(
        ProtocolFeature.READABLE_STORE | ProtocolFeature.READABLE_INDEX,
      );
      expect(answers.slice(1).map((m) => m.type)).toEqual(['index', 'index-eof', 'missing']);
    } finally {
      await removeTempDir(dir);
    }
  });

  it('an index-only server refuses a client that pulls chunks', async () => {
    const answers = await answersTo(
      [encodeMessage({ type: 'hello', features: ProtocolFeature.PULL_CHUNKS })],
      Buffer.from('x'),
    );
    const abort = answers.at(-1);
    expect(abort?.type === 'abort' && abort.reason).toMatch(/only serves an index/);
  });

  it('names the peer when the remote has no index, stops early, aborts or sends too much', async () => {
    const helloStore = encodeMessage({ type: 'hello', features: ProtocolFeature.READABLE_STORE });
    const helloIndex = encodeMessage({ type: 'hello', features: ProtocolFeature.READABLE_INDEX });
    const cases: [RemotePipes, RegExp, number?][] = [
      [scriptedPipes([helloStore]), /host:x\.caibx: the remote offers no index/],
      [
        scriptedPipes([helloIndex], 'Failed to process remote: No such file or directory'),
        /closed the connection before the whole index arrived: Failed to process remote: No such file/,
      ],
      [scriptedPipes([]), /closed the connection before HELLO/],
      [
        scriptedPipes([helloIndex, encodeMessage({ type: 'abort', error: 5, reason: 'disk on fire' })]),
        /disk on fire/,
      ],
      [
        scriptedPipes([helloIndex, encodeMessage({ type: 'index', data: new Uint8Array(100) })]),
        /larger than 64 bytes/,
        64,
      ],
      [scriptedPipes([encodeMessage({ type: 'index', data: new Uint8Array(1) })]), /INDEX before HELLO/],
    ];
    for (const [pipes, message, max] of cases) {
      const err = await pullIndex(pipes, 'host:x.caibx', max).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain('host:x.caibx');
    }
  });
});

const peers = sshPeers();
const casync = requirePeer('casync', findCasync());

describe.skipIf(!peers || !casync)('readSshIndex against casync pull over a real sshd', () => {
  let sshd: TestSshd;
  let work: string;
  let index: string;

  beforeAll(async () => {
    sshd = await startSshd(peers!);
    work = await makeTempDir('desync-ssh-index-');
    await writeFile(join(work, 'blob'), randomBytes(2 * 1024 * 1024));
    index = join(work, 'blob.caibx');
    await runCasync(['make', `--store=${join(work, 'store')}`, index, join(work, 'blob')], { casync });
  });

  afterAll(async () => {
    await sshd?.stop();
    if (work) await removeTempDir(work);
  });

  const read = (path: string, sshPath = '') =>
    readSshIndex({
      location: sshPath ? `127.0.0.1:${path}` : `ssh://${sshd.user}@127.0.0.1:${sshd.port}${path}`,
      remotePath: casync!,
      identityFiles: [sshd.userKey],
      knownHostsFiles: [sshd.knownHosts],
      agent: false,
      sshPath,
    });

  it('reads the index byte for byte with the built-in client and through an ssh command', async () => {
    const expected = await readFile(index);
    expect(Buffer.from(await read(index)).equals(expected)).toBe(true);
    expect(Buffer.from(await read(index, await sshd.sshWrapper(true))).equals(expected)).toBe(true);
  });

  it('says the file does not exist, naming the location', async () => {
    const err = (await read(join(work, 'nope.caibx')).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain('nope.caibx');
    expect(err.message).toMatch(/No such file/);
  });
});
