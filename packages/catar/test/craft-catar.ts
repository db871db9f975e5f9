import {
  CA_FORMAT_ENTRY,
  CA_FORMAT_FILENAME,
  CA_FORMAT_GOODBYE,
  CA_FORMAT_GOODBYE_HASH_KEY,
  CA_FORMAT_GOODBYE_TAIL_MARKER,
  CA_FORMAT_PAYLOAD,
  CA_FORMAT_SYMLINK,
  siphash24,
} from '../src/index.js';

/** A node of a hand-made archive; names are raw so tests can forge '..', 'a/b' or ''. */
export type CraftNode =
  | { kind: 'dir'; name?: string; mode?: number; children: CraftNode[] }
  | { kind: 'file'; name?: string; mode?: number; data: Uint8Array; claimedSize?: number }
  | { kind: 'symlink'; name?: string; target: string };

const FLAGS = 0xb000000000001f22n;

function obj(type: bigint, body: Uint8Array, size = 16 + body.length): Buffer {
  const b = Buffer.alloc(16 + body.length);
  b.writeBigUInt64LE(BigInt(size), 0);
  b.writeBigUInt64LE(type, 8);
  b.set(body, 16);
  return b;
}

/** An ENTRY object with fixed owner 0 and mtime 1 s. */
export function entryObject(mode: number): Buffer {
  const body = Buffer.alloc(48);
  body.writeBigUInt64LE(FLAGS, 0);
  body.writeBigUInt64LE(BigInt(mode), 8);
  body.writeBigUInt64LE(1_000_000_000n, 40);
  return obj(CA_FORMAT_ENTRY, body);
}

/** A FILENAME object holding `name` + NUL, with an optional forged size field. */
export function filenameObject(name: string | Uint8Array, size?: number): Buffer {
  return obj(CA_FORMAT_FILENAME, Buffer.concat([Buffer.from(name), Buffer.of(0)]), size);
}

/**
 * Serializes `node` as casync lays it out (ENTRY, PAYLOAD/SYMLINK, FILENAME + child, GOODBYE
 * with correct items), so that each test breaks exactly one thing.
 */
export function craftCatar(node: CraftNode): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    offset += b.length;
  };
  const write = (n: CraftNode): void => {
    const start = offset;
    if (n.kind === 'file') {
      push(entryObject(0o100000 | (n.mode ?? 0o644)));
      push(obj(CA_FORMAT_PAYLOAD, n.data, 16 + (n.claimedSize ?? n.data.length)));
    } else if (n.kind === 'symlink') {
      push(entryObject(0o120777));
      push(obj(CA_FORMAT_SYMLINK, Buffer.concat([Buffer.from(n.target), Buffer.of(0)])));
    } else {
      push(entryObject(0o040000 | (n.mode ?? 0o755)));
      const items: { start: number; end: number; hash: bigint }[] = [];
      for (const c of n.children) {
        const cs = offset;
        push(filenameObject(c.name ?? ''));
        write(c);
        items.push({
          start: cs,
          end: offset,
          hash: siphash24(Buffer.from(c.name ?? ''), CA_FORMAT_GOODBYE_HASH_KEY),
        });
      }
      const at = offset;
      const body = Buffer.alloc(24 * (items.length + 1));
      items.forEach((it, i) => {
        body.writeBigUInt64LE(BigInt(at - it.start), i * 24);
        body.writeBigUInt64LE(BigInt(it.end - it.start), i * 24 + 8);
        body.writeBigUInt64LE(it.hash, i * 24 + 16);
      });
      const t = items.length * 24;
      body.writeBigUInt64LE(BigInt(at - start), t);
      body.writeBigUInt64LE(BigInt(16 + body.length), t + 8);
      body.writeBigUInt64LE(CA_FORMAT_GOODBYE_TAIL_MARKER, t + 16);
      push(obj(CA_FORMAT_GOODBYE, body));
    }
  };
  write(node);
  return Buffer.concat(parts);
}

/** The bytes as an async stream, in blocks of `blockSize` (to exercise reassembly). */
export async function* streamOf(bytes: Uint8Array, blockSize = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += blockSize) yield bytes.subarray(i, i + blockSize);
}
