import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findCasync, requirePeer, runCasync } from '@desync/testkit';
import { describe, expect, it } from 'vitest';
import { type CatarEntry, CatarFormatError, decodeCatar, listCatar } from '../src/index.js';
import { type CraftNode, craftCatar, entryObject, filenameObject, streamOf } from './craft-catar.js';

const casync = requirePeer('casync', findCasync());
const fixtures = join(import.meta.dirname, 'fixtures');
const FIXTURES = ['flat', 'flatdir', 'nested', 'complex'];

async function decodeAll(bytes: Uint8Array, blockSize = 7): Promise<(CatarEntry & { data?: Buffer })[]> {
  const out: (CatarEntry & { data?: Buffer })[] = [];
  for await (const e of decodeCatar(streamOf(bytes, blockSize), { name: 'test.catar' })) {
    if (e.kind === 'file') {
      const parts: Uint8Array[] = [];
      for await (const b of e.content) parts.push(b);
      out.push({ ...e, data: Buffer.concat(parts) });
    } else {
      out.push(e);
    }
  }
  return out;
}

async function decodeError(bytes: Uint8Array): Promise<CatarFormatError> {
  const err = await decodeAll(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CatarFormatError);
  const e = err as CatarFormatError;
  expect(e.code).toBe('CATAR_FORMAT');
  expect(e.message).not.toContain('\n');
  expect(e.message).toContain('test.catar');
  return e;
}

const dir = (children: CraftNode[]): CraftNode => ({ kind: 'dir', children });
const file = (name: string, data = Buffer.from('hello')): CraftNode => ({ kind: 'file', name, data });

describe('decodeCatar', () => {
  it('decodes a hand-made archive whatever the block size of the source', async () => {
    const bytes = craftCatar(
      dir([
        file('a', Buffer.from('alpha')),
        { kind: 'dir', name: 'd', children: [file('x', Buffer.alloc(1000, 7))] },
        { kind: 'symlink', name: 'l', target: 'a' },
      ]),
    );
    for (const bs of [1, 3, 16, 64, 4096]) {
      const entries = await decodeAll(bytes, bs);
      expect(entries.map((e) => `${e.kind}:${e.path}`)).toEqual([
        'directory:',
        'file:a',
        'directory:d',
        'file:d/x',
        'symlink:l',
      ]);
      expect(entries[1]?.data?.toString()).toBe('alpha');
      expect(entries[3]?.data).toEqual(Buffer.alloc(1000, 7));
      expect(entries[4]).toMatchObject({ target: 'a' });
      expect(entries[2]?.offset).toBeGreaterThan(0);
    }
  });

  it('skips file contents that are not read and refuses them afterwards', async () => {
    const bytes = craftCatar(dir([file('a', Buffer.alloc(100, 1)), file('b', Buffer.from('bee'))]));
    const seen: string[] = [];
    let stale: AsyncIterable<Uint8Array> | undefined;
    for await (const e of decodeCatar(streamOf(bytes))) {
      seen.push(e.path);
      if (e.kind === 'file' && e.path === 'a') stale = e.content;
    }
    expect(seen).toEqual(['', 'a', 'b']);
    const again = async (): Promise<void> => {
      for await (const _ of stale as AsyncIterable<Uint8Array>) {
        /* drain */
      }
    };
    await expect(again()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  for (const name of ['..', '.', '', 'a/b']) {
    it(`rejects the filename ${JSON.stringify(name)}`, async () => {
      const e = await decodeError(craftCatar(dir([file(name)])));
      expect(e.message).toMatch(/FILENAME/);
      expect(e.offset).toBe(64);
    });
  }

  it('rejects a filename holding a NUL', async () => {
    await decodeError(craftCatar(dir([file('a\0b')])));
  });

  it('rejects repeated or unsorted names (a symlink could otherwise become a directory)', async () => {
    await decodeError(craftCatar(dir([file('b'), file('a')])));
    await decodeError(
      craftCatar(
        dir([
          { kind: 'symlink', name: 'link', target: '/tmp' },
          { kind: 'dir', name: 'link', children: [file('x')] },
        ]),
      ),
    );
  });

  it('names the entry path in the error', async () => {
    const e = await decodeError(craftCatar(dir([{ kind: 'dir', name: 'sub', children: [file('..')] }])));
    expect(e.path).toBe('sub');
    expect(e.message).toContain('"sub"');
  });

  it('rejects a stream truncated anywhere', async () => {
    const bytes = craftCatar(
      dir([file('a', Buffer.alloc(300, 2)), { kind: 'symlink', name: 'l', target: 'a' }]),
    );
    for (const cut of [0, 1, 15, 16, 63, 64, 80, 100, 150, 400, bytes.length - 24, bytes.length - 1]) {
      if (cut === 0) {
        // An empty stream is not an archive either.
        const err = await decodeAll(bytes.subarray(0, 0)).then(
          () => 'decoded',
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(CatarFormatError);
        continue;
      }
      const e = await decodeError(bytes.subarray(0, cut));
      expect(e.message).toMatch(/truncated/);
    }
  });

  it('rejects trailing bytes after the root', async () => {
    const bytes = craftCatar(dir([file('a')]));
    await decodeError(Buffer.concat([bytes, Buffer.alloc(16)]));
  });

  it('rejects a payload whose size does not add up', async () => {
    const longer = craftCatar(
      dir([{ kind: 'file', name: 'a', data: Buffer.alloc(10), claimedSize: 50 }, file('b')]),
    );
    await decodeError(longer);
    const shorter = craftCatar(
      dir([{ kind: 'file', name: 'a', data: Buffer.alloc(40), claimedSize: 8 }, file('b')]),
    );
    await decodeError(shorter);
  });

  it('rejects a huge filename size before allocating it', async () => {
    const bytes = Buffer.concat([entryObject(0o40755), filenameObject('a', 2 ** 40)]);
    const e = await decodeError(bytes);
    expect(e.message).toMatch(/absurdly large/);
  });

  it('rejects a huge symlink target and an object smaller than its header', async () => {
    const big = craftCatar(dir([{ kind: 'symlink', name: 'l', target: 'x'.repeat(70_000) }]));
    expect((await decodeError(big)).message).toMatch(/SYMLINK/);
    const small = Buffer.concat([entryObject(0o40755), filenameObject('a', 8)]);
    expect((await decodeError(small)).message).toMatch(/smaller than its header/);
  });

  it('rejects an unknown object where ENTRY, FILENAME or GOODBYE is required', async () => {
    const junk = Buffer.alloc(24);
    junk.writeBigUInt64LE(24n, 0);
    junk.writeBigUInt64LE(0x1234n, 8);
    expect((await decodeError(junk)).message).toMatch(/expected ENTRY/);
    expect((await decodeError(Buffer.concat([entryObject(0o40755), junk]))).message).toMatch(
      /expected FILENAME or GOODBYE/,
    );
    const f = Buffer.concat([entryObject(0o40755), filenameObject('a'), junk]);
    expect((await decodeError(f)).message).toMatch(/expected ENTRY/);
  });

  it('rejects goodbye tables that do not match', async () => {
    const good = craftCatar(dir([file('a'), file('b')]));
    const tail = good.length - 24;
    const corrupt = (at: number): Buffer => {
      const b = Buffer.from(good);
      b[at] = (b[at] as number) ^ 1;
      return b;
    };
    expect((await decodeError(corrupt(tail + 16))).message).toMatch(/tail marker/);
    expect((await decodeError(corrupt(tail + 8))).message).toMatch(/tail size/);
    expect((await decodeError(corrupt(tail))).message).toMatch(/ENTRY/);
    expect((await decodeError(corrupt(tail - 8))).message).toMatch(/item/);
    // A goodbye with one item too many for the directory.
    const sizeField = good.length - 16 - 24 * 3;
    const b = Buffer.from(good);
    b.writeBigUInt64LE(16n + 24n * 4n, sizeField);
    await decodeError(b);
  });

  for (const name of FIXTURES) {
    it(`decodes desync's ${name}.catar`, async () => {
      const entries = await decodeAll(await readFile(join(fixtures, `${name}.catar`)), 4096);
      expect(entries[0]?.kind).toBe('directory');
      expect(entries.length).toBeGreaterThan(1);
    });
  }

  it('reports each skipped kind once', async () => {
    const kinds: string[] = [];
    for await (const _ of decodeCatar(streamOf(await readFile(join(fixtures, 'nested.catar'))), {
      onSkip: (k) => kinds.push(k),
    })) {
      /* decode only */
    }
    expect(kinds.sort()).toEqual(['group-name', 'selinux', 'user-name']);
  });

  it('stops with Aborted when the signal aborts', async () => {
    const ac = new AbortController();
    const bytes = craftCatar(dir([file('a'), file('b')]));
    const run = async (): Promise<void> => {
      for await (const _ of decodeCatar(streamOf(bytes), { signal: ac.signal })) ac.abort();
    };
    await expect(run()).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe.skipIf(!casync)('listCatar matches casync list', () => {
  for (const name of FIXTURES) {
    it(`lists ${name}.catar as casync list does`, async () => {
      const path = join(fixtures, `${name}.catar`);
      const { stdout } = await runCasync(['list', path]);
      const ours: string[] = [];
      for await (const l of listCatar(streamOf(await readFile(path), 512))) ours.push(`${l.mode} ${l.path}`);
      expect(ours).toEqual(stdout.trimEnd().split('\n'));
    });
  }
});
