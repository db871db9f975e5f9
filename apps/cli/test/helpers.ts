import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { findCasync, requirePeer, runCli } from '@desync/testkit';
import { expect } from 'vitest';

/** How one CLI run ended; stdout is kept as bytes because `cat` writes binary data. */
export interface DesyncResult {
  /** Exit status, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Options of runDesync. */
export interface RunDesyncOptions {
  cwd?: string;
  /** Merged over process.env. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; default: stdin closed at once (not a terminal). */
  input?: string | Uint8Array;
  /** Milliseconds before the command is killed (see runCli). */
  timeout?: number;
}

/** Runs `node apps/cli/bin/run.js ...args`; a non-zero exit is a result, not an error. */
export async function runDesync(args: readonly string[], options?: RunDesyncOptions): Promise<DesyncResult> {
  const r = await runCli(args, { ...options, env: { DESYNC_DEBUG: undefined, ...options?.env } });
  return { code: r.code, signal: r.signal, stdout: r.stdoutBytes, stderr: r.stderr };
}

/** Runs the CLI and fails the test, showing stderr, unless it exits 0. */
export async function desyncOk(args: readonly string[], options?: RunDesyncOptions): Promise<DesyncResult> {
  const result = await runDesync(args, options);
  if (result.code !== 0) {
    throw new Error(`desync ${args.join(' ')} exited ${result.code ?? result.signal}: ${result.stderr}`);
  }
  return result;
}

/**
 * Asserts the CLI failed the way users are promised: non-zero exit, exactly one stderr line
 * starting `desync: `, no stack trace, and every `mentions` string in that line.
 */
export function expectOneLineError(result: DesyncResult, mentions: readonly string[] = []): string {
  expect(result.code, result.stderr).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^desync: /);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  for (const text of mentions) expect(lines[0]).toContain(text);
  return lines[0];
}

/** The casync binary, undefined when it is absent outside CI, or the PeerMissing error in CI. */
export function casyncPeer(): { casync?: string; missingInCi?: Error } {
  try {
    return { casync: requirePeer('casync', findCasync()) };
  } catch (err) {
    return { missingInCi: err as Error };
  }
}

/** One entry of a blob index: where the chunk starts in the blob, its size and id. */
export interface IndexEntry {
  start: number;
  size: number;
  id: string;
}

/** A parsed .caibx. */
export interface ParsedIndex {
  featureFlags: bigint;
  min: number;
  avg: number;
  max: number;
  chunks: IndexEntry[];
  blobSize: number;
}

// casync caformat.h: CA_FORMAT_INDEX, CA_FORMAT_TABLE and CA_FORMAT_TABLE_TAIL_MARKER.
const CA_FORMAT_INDEX = 0x96824d9c7b129ff9n;
const CA_FORMAT_TABLE = 0xe75b9e112f17417dn;
const CA_FORMAT_TABLE_TAIL_MARKER = 0x4b4f050e5549ecd1n;
const HEADER_SIZE = 48;
const TABLE_HEADER_SIZE = 16;
const ITEM_SIZE = 40;
const TAIL_SIZE = 40;

/**
 * Reads a blob index with a parser independent of @desync/index-format, so the tests do not
 * check the CLI against its own reader. Layout from casync caformat.h: a 48-byte
 * CaFormatIndex, a 16-byte CaFormatTable header, 40-byte items (end offset, id), a 40-byte tail.
 */
export async function parseCaibx(path: string): Promise<ParsedIndex> {
  const bytes = await readFile(path);
  const u64 = (offset: number) => bytes.readBigUInt64LE(offset);
  if (u64(0) !== BigInt(HEADER_SIZE) || u64(8) !== CA_FORMAT_INDEX) throw new Error(`${path}: not an index`);
  if (u64(HEADER_SIZE + 8) !== CA_FORMAT_TABLE) throw new Error(`${path}: no table`);
  const itemBytes = bytes.length - HEADER_SIZE - TABLE_HEADER_SIZE - TAIL_SIZE;
  if (itemBytes < 0 || itemBytes % ITEM_SIZE !== 0) throw new Error(`${path}: bad table size`);
  if (u64(bytes.length - 8) !== CA_FORMAT_TABLE_TAIL_MARKER) throw new Error(`${path}: no tail marker`);
  const chunks: IndexEntry[] = [];
  let start = 0;
  for (let at = HEADER_SIZE + TABLE_HEADER_SIZE; at < bytes.length - TAIL_SIZE; at += ITEM_SIZE) {
    const end = Number(u64(at));
    chunks.push({ start, size: end - start, id: bytes.subarray(at + 8, at + ITEM_SIZE).toString('hex') });
    start = end;
  }
  return {
    featureFlags: u64(16),
    min: Number(u64(24)),
    avg: Number(u64(32)),
    max: Number(u64(40)),
    chunks,
    blobSize: start,
  };
}

/** Where a casync local store keeps a chunk. */
export function chunkPath(store: string, id: string): string {
  return join(store, id.slice(0, 4), `${id}.cacnk`);
}

/** Every file under `dir` as a sorted list of relative paths; a missing dir is empty. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((err) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** The chunk ids a store holds, sorted. */
export async function storeIds(store: string): Promise<string[]> {
  return (await listFiles(store)).map((p) => p.slice(5, -'.cacnk'.length));
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** SHA-512/256, casync's chunk id, of `data`. */
export function chunkIdOf(data: Uint8Array): string {
  return createHash('sha512-256').update(data).digest('hex');
}

// zstd spec RFC 8878 §3.1.1: magic, a frame header with Single_Segment_flag and a 4-byte
// Frame_Content_Size (descriptor 0xa0), then Raw blocks of at most 128 KiB with 3-byte headers.
/** A valid zstd frame holding `data` uncompressed, made without a zstd library. */
export function rawZstdFrame(data: Uint8Array): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0])];
  const size = Buffer.alloc(4);
  size.writeUInt32LE(data.length);
  parts.push(size);
  const blockMax = 128 * 1024;
  let offset = 0;
  do {
    const piece = data.subarray(offset, offset + blockMax);
    offset += piece.length;
    const last = offset >= data.length ? 1 : 0;
    const header = (piece.length << 3) | last;
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), Buffer.from(piece));
  } while (offset < data.length);
  return Buffer.concat(parts);
}

/** `-m` in KiB to casync's `--chunk-size=MIN:AVG:MAX` in bytes. */
export function casyncChunkSizeArg(spec: string): string {
  return `--chunk-size=${spec
    .split(':')
    .map((kib) => Number(kib) * 1024)
    .join(':')}`;
}

/**
 * Runs `fn` with a 1 MiB tmpfs mounted at `mount` (created), unmounted after; skips the test
 * where mounting is not allowed (not root).
 */
export async function withSmallTmpfs(
  mount: string,
  ctx: { skip(): void },
  fn: (mount: string) => Promise<void>,
): Promise<void> {
  await mkdir(mount);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount], { stdio: 'ignore' });
  } catch {
    ctx.skip();
    return;
  }
  try {
    await fn(mount);
  } finally {
    execFileSync('umount', [mount]);
  }
}
