import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  Chunk,
  type ChunkId,
  ChunkInvalid,
  ChunkMissing,
  digestChunk,
  type Store,
  StoreError,
} from '@desync/core';
import { describeStoreConformance } from '@desync/core/testing';
import { LocalStore } from '@desync/store-local';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { readMessages } from '../src/message-reader.js';
import { MessageType, ProtocolFeature } from '../src/protocol-constants.js';
import { ProtocolError } from '../src/protocol-error.js';
import { encodeMessage, type ProtocolMessage } from '../src/protocol-message.js';
import { servePull } from '../src/serve-pull.js';
import { SshStore } from '../src/ssh-store.js';
import { inProcessPipes } from './in-process-pipes.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map(removeTempDir));
});

async function localStoreWith(chunks: readonly Chunk[]): Promise<LocalStore> {
  const dir = await makeTempDir('desync-store-ssh-');
  dirs.push(dir);
  const store = new LocalStore({ path: join(dir, 'store') });
  for (const chunk of chunks) await store.storeChunk(chunk);
  return store;
}

/** An SshStore whose sessions are servePull calls on `backing`, in this process. */
function inProcessStore(backing: Store, concurrency = 4): SshStore {
  return new SshStore({
    location: 'ssh://test@in-process/store',
    concurrency,
    transport: async () => inProcessPipes(backing),
  });
}

describeStoreConformance<SshStore>('SshStore over an in-process servePull', {
  create: async () => inProcessStore(await localStoreWith([])),
  writable: false,
  seed: async (chunks) => inProcessStore(await localStoreWith(chunks)),
});

/** Runs servePull on `input` (bytes sent by a client) and collects what it answered. */
async function serveBytes(
  store: Store,
  input: Uint8Array[],
): Promise<{ result: unknown; answers: ProtocolMessage[] }> {
  const output = new PassThrough();
  const collected = (async () => {
    const out: ProtocolMessage[] = [];
    for await (const m of readMessages(output, 'server')) out.push(m);
    return out;
  })();
  const result = await servePull(store, input, output).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { result, answers: await collected };
}

/** A Store that records every call, to prove hostile input never reaches it. */
function spyStore(inner: Store): Store & { calls: number } {
  const spy = {
    calls: 0,
    getChunk: (id: ChunkId) => {
      spy.calls++;
      return inner.getChunk(id);
    },
    hasChunk: (id: ChunkId) => {
      spy.calls++;
      return inner.hasChunk(id);
    },
    close: () => inner.close(),
    toString: () => inner.toString(),
  };
  return spy;
}

const hello = (features: bigint = ProtocolFeature.PULL_CHUNKS): Buffer =>
  encodeMessage({ type: 'hello', features });

describe('servePull', () => {
  it('greets, answers CHUNK and MISSING per id, and ends on GOODBYE', async () => {
    const present = Chunk.fromPlain(randomBytes(5000));
    const absent = Chunk.fromPlain(randomBytes(10));
    const store = await localStoreWith([present]);
    const { result, answers } = await serveBytes(store, [
      hello(),
      encodeMessage({ type: 'request', highPriority: false, ids: [present.id, absent.id] }),
      encodeMessage({ type: 'goodbye' }),
    ]);
    expect(result).toBeUndefined();
    expect(answers[0]).toEqual({ type: 'hello', features: ProtocolFeature.READABLE_STORE });
    const rest = answers.slice(1).sort((a, b) => a.type.localeCompare(b.type));
    expect(rest.map((m) => m.type)).toEqual(['chunk', 'missing']);
    const chunk = rest[0] as Extract<ProtocolMessage, { type: 'chunk' }>;
    expect(chunk.id).toBe(present.id);
    expect(chunk.compressed).toBe(true);
    const back = Chunk.fromCompressed(present.id, chunk.data, { source: 'test' });
    expect(Buffer.from(await back.plainData()).equals(await present.plainData())).toBe(true);
    expect(rest[1]).toEqual({ type: 'missing', id: absent.id });
  });

  it('answers every id queued before the client closes its side', async () => {
    const chunks = Array.from({ length: 50 }, () => Chunk.fromPlain(randomBytes(2000)));
    const store = await localStoreWith(chunks);
    const { result, answers } = await serveBytes(store, [
      hello(),
      encodeMessage({ type: 'request', highPriority: false, ids: chunks.map((c) => c.id) }),
    ]);
    expect(result).toBeUndefined();
    expect(answers.filter((m) => m.type === 'chunk')).toHaveLength(50);
  });

  const hostile: [string, Uint8Array[], RegExp][] = [
    [
      'a REQUEST before HELLO',
      [encodeMessage({ type: 'request', highPriority: false, ids: [Chunk.fromPlain(new Uint8Array(1)).id] })],
      /expected HELLO, got REQUEST/,
    ],
    [
      'a client that wants an index',
      [hello(ProtocolFeature.PULL_CHUNKS | ProtocolFeature.PULL_INDEX)],
      /only serves chunks/,
    ],
    ['a client that only pushes', [hello(ProtocolFeature.PUSH_CHUNKS)], /only serves chunks/],
    ['a second HELLO', [hello(), hello()], /unexpected HELLO/],
    [
      'a CHUNK from the client',
      [
        hello(),
        encodeMessage({
          type: 'chunk',
          id: Chunk.fromPlain(new Uint8Array(1)).id,
          compressed: false,
          data: new Uint8Array(1),
        }),
      ],
      /unexpected CHUNK/,
    ],
    [
      'an INDEX from the client',
      [hello(), encodeMessage({ type: 'index', data: new Uint8Array(3) })],
      /unexpected INDEX/,
    ],
    [
      'an unknown message type',
      [hello(), Buffer.from('1000000000000000efbeadde00000000', 'hex')],
      /unknown message type/,
    ],
    [
      'a REQUEST with a torn id',
      [
        hello(),
        Buffer.concat([
          encodeMessage({
            type: 'request',
            highPriority: false,
            ids: [Chunk.fromPlain(new Uint8Array(1)).id],
          }).subarray(0, 40),
        ]),
      ],
      /middle of a message/,
    ],
    [
      'an oversized message',
      [hello(), Buffer.from(`00000002000000001092d9f8e027b48a`, 'hex')],
      /claims 33554432 bytes/,
    ],
  ];

  it.each(hostile)('sends ABORT, rejects and leaves the store alone on %s', async (_name, input, reason) => {
    const store = spyStore(await localStoreWith([]));
    const { result, answers } = await serveBytes(store, input);
    expect(result).toBeInstanceOf(ProtocolError);
    expect((result as ProtocolError).message).toMatch(reason);
    const abort = answers.at(-1);
    expect(abort?.type).toBe('abort');
    expect(abort?.type === 'abort' && abort.reason).toMatch(reason);
    expect(store.calls).toBe(0);
  });

  it('rejects without ABORT when the client aborts', async () => {
    const { result, answers } = await serveBytes(await localStoreWith([]), [
      hello(),
      encodeMessage({ type: 'abort', error: 5, reason: 'client gave up' }),
    ]);
    expect(result).toBeInstanceOf(ProtocolError);
    expect((result as Error).message).toMatch(/the client aborted: client gave up/);
    expect(answers.map((m) => m.type)).toEqual(['hello']);
  });

  it('rejects when the client leaves before HELLO', async () => {
    const { result } = await serveBytes(await localStoreWith([]), []);
    expect((result as Error).message).toMatch(/closed the connection before HELLO/);
  });

  it('sends ABORT naming the chunk when the store fails', async () => {
    const chunk = Chunk.fromPlain(randomBytes(100));
    const failing: Store = {
      getChunk: async () => {
        throw new StoreError('/broken', 'permission denied');
      },
      hasChunk: async () => false,
      close: async () => {},
      toString: () => '/broken',
    };
    const { result, answers } = await serveBytes(failing, [
      hello(),
      encodeMessage({ type: 'request', highPriority: false, ids: [chunk.id] }),
    ]);
    expect(result).toBeInstanceOf(StoreError);
    const abort = answers.at(-1);
    expect(abort?.type === 'abort' && abort.reason).toMatch(
      new RegExp(`reading chunk ${chunk.id} failed: /broken: permission denied`),
    );
  });

  it('answers a REQUEST of 100000 ids', async () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => digestChunk(Buffer.from(String(i))));
    const empty: Store = {
      getChunk: async (id) => {
        throw new ChunkMissing(id, 'empty');
      },
      hasChunk: async () => false,
      close: async () => {},
      toString: () => 'empty',
    };
    const { result, answers } = await serveBytes(empty, [
      hello(),
      encodeMessage({ type: 'request', highPriority: false, ids }),
      encodeMessage({ type: 'goodbye' }),
    ]);
    expect(result).toBeUndefined();
    expect(answers).toHaveLength(100_001);
  });

  it('checks the type word casync uses for HELLO', () => {
    expect(hello().readBigUInt64LE(8)).toBe(MessageType.HELLO);
  });
});

describe('SshStore over pipes', () => {
  it('pipelines many requests over one session', async () => {
    const chunks = Array.from({ length: 200 }, () => Chunk.fromPlain(randomBytes(1000)));
    const backing = await localStoreWith(chunks);
    let sessions = 0;
    const store = new SshStore({
      location: 'host:/store',
      concurrency: 1,
      transport: async () => {
        sessions++;
        return inProcessPipes(backing);
      },
    });
    const got = await Promise.all(chunks.map((c) => store.getChunk(c.id).then((r) => r.plainData())));
    expect(got.map((g) => g.length)).toEqual(chunks.map(() => 1000));
    expect(sessions).toBe(1);
    await store.close();
  });

  it('asks another session for an id a session answered already (casync answers each id once)', async () => {
    const chunk = Chunk.fromPlain(randomBytes(1000));
    const backing = await localStoreWith([chunk]);
    let sessions = 0;
    const store = new SshStore({
      location: 'host:/store',
      concurrency: 2,
      transport: async () => {
        sessions++;
        return inProcessPipes(backing);
      },
    });
    for (let i = 0; i < 4; i++) await (await store.getChunk(chunk.id)).plainData();
    expect(sessions).toBe(4);
    await store.close();
  });

  it('rejects a chunk whose bytes do not hash to its id', async () => {
    const chunk = Chunk.fromPlain(randomBytes(1000));
    const other = Chunk.fromPlain(randomBytes(1000));
    // A server that answers with the wrong bytes under the requested id.
    const lying: Store = {
      getChunk: async (id) => Chunk.fromCompressed(id, await other.compressedData(), { source: 'liar' }),
      hasChunk: async () => true,
      close: async () => {},
      toString: () => 'liar',
    };
    const store = new SshStore({ location: 'host:/store', transport: async () => inProcessPipes(lying) });
    const got = await store.getChunk(chunk.id);
    await expect(got.plainData()).rejects.toBeInstanceOf(ChunkInvalid);
    await store.close();
  });

  it('fails pending requests with a StoreError naming the host when the remote dies', async () => {
    const chunk = Chunk.fromPlain(randomBytes(1000));
    const toClient = new PassThrough();
    const toServer = new PassThrough();
    const store = new SshStore({
      location: 'ssh://me@far.example/srv/store',
      transport: async () => ({
        stdout: toClient,
        stdin: toServer,
        stderrTail: () => 'casync: killed',
        settle: async () => {},
        close: () => {},
      }),
    });
    toClient.write(encodeMessage({ type: 'hello', features: ProtocolFeature.READABLE_STORE }));
    const pending = store.getChunk(chunk.id);
    // The request reached the "remote", which then dies mid-answer.
    await new Promise((resolve) => toServer.once('data', resolve));
    toClient.end(
      encodeMessage({ type: 'chunk', id: chunk.id, compressed: true, data: Buffer.alloc(100) }).subarray(
        0,
        60,
      ),
    );
    const err = await pending.then(
      () => expect.fail('expected a rejection'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toContain('far.example');
    expect(err).not.toBeInstanceOf(ChunkMissing);
    await store.close();
  });

  it('reports an ABORT from the remote with its reason', async () => {
    const toClient = new PassThrough();
    const store = new SshStore({
      location: 'far.example:/srv/store',
      transport: async () => ({
        stdout: toClient,
        stdin: new PassThrough(),
        stderrTail: () => '',
        settle: async () => {},
        close: () => {},
      }),
    });
    toClient.write(encodeMessage({ type: 'abort', error: 2, reason: 'No such file or directory' }));
    await expect(store.hasChunk(Chunk.fromPlain(new Uint8Array(3)).id)).rejects.toThrow(
      /far\.example:\/srv\/store: the remote aborted: No such file or directory/,
    );
    await store.close();
  });

  it('gives up on a remote that does not answer within timeoutMs', async () => {
    const toClient = new PassThrough();
    const store = new SshStore({
      location: 'ssh://slow.example/store',
      timeoutMs: 200,
      transport: async () => ({
        stdout: toClient,
        stdin: new PassThrough(),
        stderrTail: () => '',
        settle: async () => {},
        close: () => {},
      }),
    });
    toClient.write(encodeMessage({ type: 'hello', features: ProtocolFeature.READABLE_STORE }));
    const id = Chunk.fromPlain(new Uint8Array(9)).id;
    await expect(store.getChunk(id)).rejects.toThrow(
      /slow\.example\/store: no answer for chunk .* within 0\.2 s/,
    );
    await store.close();
  });

  it('an abort while a chunk is on its way rejects with the reason and leaves the store usable', async () => {
    const chunk = Chunk.fromPlain(randomBytes(1000));
    const backing = await localStoreWith([chunk]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: Store = {
      getChunk: async (id) => {
        await gate;
        return backing.getChunk(id);
      },
      hasChunk: (id) => backing.hasChunk(id),
      close: async () => {},
      toString: () => 'slow',
    };
    const store = inProcessStore(slow, 1);
    const controller = new AbortController();
    const reason = new Error('stop');
    const pending = store.getChunk(chunk.id, { signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    release();
    expect((await (await store.getChunk(chunk.id)).plainData()).length).toBe(1000);
    await store.close();
  });

  it('explains output that is not the protocol (a chatty login script)', async () => {
    const toClient = new PassThrough();
    const store = new SshStore({
      location: 'chatty.example:/store',
      transport: async () => ({
        stdout: toClient,
        stdin: new PassThrough(),
        stderrTail: () => 'bash: warning: setlocale',
        settle: async () => {},
        close: () => {},
      }),
    });
    toClient.end('Welcome to chatty.example! Have a nice day.\n');
    await expect(store.getChunk(Chunk.fromPlain(new Uint8Array(2)).id)).rejects.toThrow(
      /chatty\.example:\/store: protocol error: .*login script.*: bash: warning: setlocale/,
    );
    await store.close();
  });
});
