import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import {
  lstat,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileError } from '../src/errors.js';
import { outputTarget, writesInPlace } from '../src/output-target.js';
import { writeOutput } from '../src/write-output.js';

let dir: string;
beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'core-output-')));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function* pieces(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

describe('outputTarget', () => {
  it('tells new paths, files, links to files, devices and FIFOs apart', async () => {
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    const link = join(dir, 'link');
    await symlink(file, link);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await outputTarget(join(dir, 'new'))).toEqual({ kind: 'new', path: join(dir, 'new') });
    expect(await outputTarget(file)).toMatchObject({ kind: 'file', path: file });
    expect(await outputTarget(link)).toMatchObject({ kind: 'file', path: file });
    expect(await outputTarget('/dev/null')).toMatchObject({ kind: 'character-device', path: '/dev/null' });
    expect(await outputTarget(fifo)).toMatchObject({ kind: 'fifo', path: fifo });
    expect(writesInPlace(await outputTarget(file))).toBe(false);
    expect(writesInPlace(await outputTarget(join(dir, 'new')))).toBe(false);
    expect(writesInPlace(await outputTarget('/dev/null'))).toBe(true);
    expect(writesInPlace(await outputTarget(fifo))).toBe(true);
  });

  it('refuses a directory and a socket other than standard output, naming them', async () => {
    await expect(outputTarget(dir)).rejects.toThrow(
      new FileError(dir, 'is a directory; give the path of a file to write'),
    );
    const socket = join(dir, 'socket');
    const server = createServer().listen(socket);
    await once(server, 'listening');
    try {
      await expect(outputTarget(socket)).rejects.toThrow(
        new FileError(socket, 'is a socket; nothing can be written there'),
      );
    } finally {
      server.close();
    }
  });
});

describe('writeOutput', () => {
  it('writes a new file whole, leaving no temporary file', async () => {
    const out = join(dir, 'out');
    await writeOutput(out, pieces('ab', 'cd'));
    expect(await readFile(out, 'utf8')).toBe('abcd');
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('leaves the old file and no temporary file when the stream fails', async () => {
    const out = join(dir, 'out');
    await writeFile(out, 'old');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('new');
      throw new Error('source failed');
    }
    await expect(writeOutput(out, failing())).rejects.toThrow('source failed');
    expect(await readFile(out, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('writes through a symbolic link and keeps the link', async () => {
    const real = join(dir, 'real');
    await writeFile(real, 'old');
    const link = join(dir, 'link');
    await symlink(real, link);
    await writeOutput(link, pieces('new'));
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(real);
    expect(await readFile(real, 'utf8')).toBe('new');
    expect((await readdir(dir)).sort()).toEqual(['link', 'real']);
  });

  it('writes /dev/null in place: it stays a device, and nothing is created in /dev', async () => {
    const before = (await readdir('/dev')).filter((f) => f.startsWith('.null.'));
    await writeOutput('/dev/null', pieces('anything'));
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
    expect((await readdir('/dev')).filter((f) => f.startsWith('.null.'))).toEqual(before);
  });

  it('writes into a FIFO for the reader at its other end', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const read = (async () => {
      const parts: Buffer[] = [];
      for await (const p of createReadStream(fifo)) parts.push(p as Buffer);
      return Buffer.concat(parts).toString();
    })();
    await writeOutput(fifo, pieces('through ', 'the pipe'));
    expect(await read).toBe('through the pipe');
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });
});
