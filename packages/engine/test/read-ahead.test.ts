import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChunkReadAhead, readAndDrop } from '../src/read-ahead.js';

/** A reader that records what it was asked and answers when told. */
function fakeReader() {
  const asked: string[] = [];
  const pending: (() => void)[] = [];
  return {
    asked,
    read: (path: string, done: () => void) => {
      asked.push(path);
      pending.push(done);
    },
    /** Answers every read in flight (which may start more). */
    finishAll: () => {
      for (const done of pending.splice(0)) done();
    },
    get inFlight() {
      return pending.length;
    },
  };
}

const pathAt = (i: number) => `chunk-${i}`;

describe('ChunkReadAhead', () => {
  it('reads nothing until started, however many chunks are handed to the workers', () => {
    const reader = fakeReader();
    const ahead = new ChunkReadAhead(pathAt, 10_000, reader.read);
    ahead.handed(32);
    ahead.handed(64);
    expect(reader.asked).toEqual([]);
  });

  it('once started, reads the chunks after those handed out, a bounded number at a time', () => {
    const reader = fakeReader();
    const ahead = new ChunkReadAhead(pathAt, 10_000, reader.read);
    ahead.handed(64);
    ahead.start();
    expect(reader.asked[0]).toBe('chunk-64');
    expect(reader.inFlight).toBe(16);
    reader.finishAll();
    expect(reader.asked).toEqual(Array.from({ length: 32 }, (_, i) => pathAt(64 + i)));
  });

  it('stays within 256 chunks of those handed out, and never reads one already handed out', () => {
    const reader = fakeReader();
    const ahead = new ChunkReadAhead(pathAt, 10_000, reader.read);
    ahead.handed(32);
    ahead.start();
    for (let i = 0; i < 40; i++) reader.finishAll();
    expect(reader.asked.length).toBe(256);
    expect(reader.asked.at(-1)).toBe('chunk-287');
    // The workers overtook the reads: they go on after the workers' chunks.
    ahead.handed(1000);
    expect(reader.asked.slice(256)).toEqual(Array.from({ length: 16 }, (_, i) => pathAt(1000 + i)));
  });

  it('ends at the last chunk, and start() twice changes nothing', () => {
    const reader = fakeReader();
    const ahead = new ChunkReadAhead(pathAt, 20, reader.read);
    ahead.start();
    ahead.handed(0);
    ahead.start();
    for (let i = 0; i < 5; i++) reader.finishAll();
    expect(reader.asked).toEqual(Array.from({ length: 20 }, (_, i) => pathAt(i)));
  });

  it('starts no read after stop()', () => {
    const reader = fakeReader();
    const ahead = new ChunkReadAhead(pathAt, 10_000, reader.read);
    ahead.start();
    ahead.handed(0);
    ahead.stop();
    reader.finishAll();
    expect(reader.asked.length).toBe(16);
    ahead.handed(500);
    ahead.start();
    expect(reader.asked.length).toBe(16);
  });

  describe('with real files', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await makeTempDir();
    });
    afterEach(async () => {
      await removeTempDir(dir);
    });

    it('reads existing files, however large, and calls back for missing ones too', async () => {
      const paths = Array.from({ length: 6 }, (_, i) => join(dir, `${i}.cacnk`));
      paths.forEach((p, i) => {
        if (i % 3 !== 0) writeFileSync(p, Buffer.alloc(1000 + i * 200_000, i));
      });
      const scratch: Buffer[] = [];
      await Promise.all(paths.map((p) => new Promise<void>((resolve) => readAndDrop(p, scratch, resolve))));
      // A buffer per read in flight at most (missing files take none), each handed back.
      expect(scratch.length).toBeGreaterThan(0);
      expect(scratch.length).toBeLessThanOrEqual(4);
    });
  });
});
