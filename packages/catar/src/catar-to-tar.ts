import { type Header, pack as tarPack } from 'tar-stream';

type TarHeaders = Partial<Header> & Pick<Header, 'name'>;

import { type CatarEntry, type CatarSkippedKind, decodeCatar } from './decode-catar.js';
import { drained } from './drained.js';

/** Options of catarToTar. */
export interface CatarToTarOptions {
  /** Name of the archive in error messages; default 'catar stream'. */
  name?: string;
  /** Aborting stops at the next object or block with Aborted. */
  signal?: AbortSignal;
  /** Called once per kind of stored catar data a tar does not get (user names, xattrs, ...). */
  onSkip?: (kind: CatarSkippedKind) => void;
  /** Called once per kind of data a tar cannot hold (sockets, xattr values that are not UTF-8). */
  onWarning?: (message: string) => void;
}

const S_IFMT = 0o170000;
const S_IFBLK = 0o060000;
// ustar numeric fields: uid/gid 7 octal digits (tar-stream writes 6), mtime 11 (tar-stream
// truncates to a signed 32-bit value); beyond them the values go to the PAX header.
const USTAR_ID_MAX = 0o777777;
const USTAR_TIME_MAX = 2 ** 31 - 1;

/**
 * Converts a catar stream into a POSIX (pax) tar stream, in catar order (a directory before
 * its children): the root is `.` and every other entry its path relative to it. Files,
 * directories, symlinks, devices and FIFOs keep mode, uid/gid and mtime; nanoseconds,
 * uids/gids beyond ustar's fields, long and non-ASCII names go to PAX extended headers, and
 * extended attributes to GNU tar's `SCHILY.xattr.*` records (restored by `tar --xattrs -x`).
 * Sockets cannot be stored in a tar: they are left out (onWarning, once). Memory stays
 * bounded: contents stream through block by block.
 * @throws CatarFormatError and Aborted as decodeCatar does.
 */
export async function* catarToTar(
  source: AsyncIterable<Uint8Array>,
  options?: CatarToTarOptions,
): AsyncGenerator<Uint8Array> {
  const pack = tarPack();
  const warned = new Set<string>();
  const warn = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    options?.onWarning?.(message);
  };
  let failure: unknown;
  const producing = (async () => {
    try {
      for await (const entry of decodeCatar(source, {
        name: options?.name,
        signal: options?.signal,
        onSkip: options?.onSkip,
      })) {
        if (pack.destroyed) return;
        if (entry.kind === 'socket') {
          warn('socket', `sockets cannot be stored in a tar; left out (first: ${entry.path})`);
          continue;
        }
        await addEntry(pack, tarHeader(entry, warn), entry);
      }
      pack.finalize();
    } catch (err) {
      failure = err;
      pack.destroy(err as Error);
    }
  })();
  let completed = false;
  try {
    for await (const block of pack) yield block as Uint8Array;
    completed = true;
  } catch (err) {
    // The producer failed first and destroyed the pack with its error.
    throw failure ?? err;
  } finally {
    // Abandoned by the consumer: the producer stops at its next entry or block. It is not
    // awaited, as it may be blocked reading a source that never ends (a terminal on stdin).
    if (!completed && !pack.destroyed) pack.destroy(null);
    if (completed) await producing;
  }
  if (failure !== undefined) throw failure;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function tarHeader(entry: CatarEntry, warn: (key: string, message: string) => void): TarHeaders {
  const seconds = entry.mtimeNs / 1_000_000_000n;
  const nanos = entry.mtimeNs % 1_000_000_000n;
  const pax: Record<string, string> = {};
  if (nanos !== 0n || seconds > BigInt(USTAR_TIME_MAX)) {
    pax.mtime =
      nanos === 0n ? `${seconds}` : `${seconds}.${nanos.toString().padStart(9, '0').replace(/0+$/, '')}`;
  }
  if (entry.uid > USTAR_ID_MAX) pax.uid = `${entry.uid}`;
  if (entry.gid > USTAR_ID_MAX) pax.gid = `${entry.gid}`;
  // GNU tar's --xattrs records; the pax value is text, so only UTF-8 values fit.
  for (const x of entry.xattrs ?? []) {
    try {
      pax[`SCHILY.xattr.${x.name}`] = utf8.decode(x.value);
    } catch {
      warn(
        'xattr',
        `extended attribute ${x.name} of ${entry.path || '.'} is not UTF-8 text; left out of the tar`,
      );
    }
  }
  const header: TarHeaders = {
    name: entry.path === '' ? '.' : entry.path,
    // The whole st_mode: tar-stream keeps only its permission bits, but would replace a
    // mode of 0 (chmod 000) by its default 0644.
    mode: entry.mode,
    uid: entry.uid > USTAR_ID_MAX ? 0 : entry.uid,
    gid: entry.gid > USTAR_ID_MAX ? 0 : entry.gid,
    mtime: new Date(Number(seconds > BigInt(USTAR_TIME_MAX) ? 0n : seconds) * 1000),
    size: 0,
  };
  if (Object.keys(pax).length > 0) header.pax = pax;
  switch (entry.kind) {
    case 'directory':
      header.type = 'directory';
      break;
    case 'file':
      header.type = 'file';
      header.size = entry.size;
      break;
    case 'symlink':
      header.type = 'symlink';
      header.linkname = entry.target;
      break;
    case 'device':
      header.type = (entry.mode & S_IFMT) === S_IFBLK ? 'block-device' : 'character-device';
      header.devmajor = entry.major;
      header.devminor = entry.minor;
      break;
    default:
      header.type = 'fifo';
      break;
  }
  return header;
}

async function addEntry(
  pack: ReturnType<typeof tarPack>,
  header: TarHeaders,
  entry: CatarEntry,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    // Failures reach the entry callback; without a listener an 'error' event would throw.
    sink.on('error', () => {});
    if (entry.kind !== 'file') return;
    (async () => {
      for await (const block of entry.content) {
        if (sink.destroyed) return;
        if (!sink.write(block)) await drained(sink);
      }
      sink.end(undefined);
    })().catch((err: unknown) => {
      sink.destroy(err as Error);
      reject(err);
    });
  });
}
