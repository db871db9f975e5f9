import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, lchown, lstat, lutimes, mkdir, open, readdir, rm, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeSystemError, FileError, makeDirs } from '@desync/core';
import { type CatarEntry, type CatarSkippedKind, decodeCatar } from './decode-catar.js';
import { loadNodeAttributes } from './node-attributes.js';

/** Options of extractCatar. */
export interface ExtractCatarOptions {
  /**
   * Extract into a directory that is not empty, replacing entries of the same name (a
   * directory in the way of a file is removed with its contents). Default false: a
   * non-empty `dir` is refused.
   */
  overwrite?: boolean;
  /** Give entries the archive's uid/gid (lchown). Default: true when running as root. */
  sameOwner?: boolean;
  /** Name of the archive in error messages; default 'catar stream'. */
  name?: string;
  /** Aborting stops at the next object or block with Aborted; the partial tree stays. */
  signal?: AbortSignal;
  /** Called once per kind of stored data that is not restored (user names, xattrs, ACLs, ...). */
  onSkip?: (kind: CatarSkippedKind) => void;
  /** Called once per kind of node that cannot be created here (sockets; devices when not root). */
  onWarning?: (message: string) => void;
}

interface DirFrame {
  path: string;
  abs: string;
  entry: CatarEntry;
}

const S_IFMT = 0o170000;
const S_IFBLK = 0o060000;
// Files are created private, then given their mode once written (and chowned).
const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const TIME_CONCURRENCY = 16;
const run = promisify(execFile);

/**
 * Extracts a catar stream into `dir`, creating it if needed. Every entry is created inside
 * `dir` or a directory this extraction created: names are checked by decodeCatar ('..', '/',
 * duplicates are refused), files are opened with O_EXCL|O_NOFOLLOW, and an existing entry is
 * only reused (overwrite) when lstat shows a real directory, so a symlink in the archive can
 * never redirect a later write outside `dir`.
 *
 * Metadata: files get mode, owner (sameOwner) and mtime; symlinks owner and mtime (lchown,
 * lutimes); directories get theirs after their contents, so read-only directories fill.
 * Devices are made with `mknod` (root only), FIFOs with `mkfifo`; sockets are skipped.
 * On error extraction stops: the partial tree stays.
 * @throws FileError when `dir` is not an empty directory (without overwrite) or an entry
 *   cannot be created; CatarFormatError for a malformed archive; Aborted.
 */
export async function extractCatar(
  source: AsyncIterable<Uint8Array>,
  dir: string,
  options?: ExtractCatarOptions,
): Promise<void> {
  const overwrite = options?.overwrite ?? false;
  const sameOwner = options?.sameOwner ?? process.getuid?.() === 0;
  const isRoot = process.getuid?.() === 0;
  const warned = new Set<string>();
  const warn = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    options?.onWarning?.(message);
  };

  await prepareRoot(dir, overwrite);
  const { xattrs: xattrModule, flags: linuxAttrs } = await loadNodeAttributes();
  // Extended attributes go on before the mode, which may take away the write permission
  // setting them needs; a filesystem or user that cannot take them gets one warning.
  const restoreXattrs = (abs: string, entry: CatarEntry): void => {
    if (entry.xattrs.length === 0) return;
    if (!xattrModule) {
      warn('xattr', 'extended attributes are not restored: the fs-xattr addon is not built here');
      return;
    }
    for (const x of entry.xattrs) {
      try {
        xattrModule.setAttributeSync(abs, x.name, Buffer.from(x.value));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!['ENOTSUP', 'EOPNOTSUPP', 'EPERM', 'EACCES', 'E2BIG', 'ENOSPC'].includes(code)) {
          throw new FileError(abs, `cannot set extended attribute ${x.name}: ${describeSystemError(err)}`, {
            cause: err,
          });
        }
        warn(
          `xattr-${code}`,
          `some extended attributes are not restored (${x.name} on ${abs}: ${describeSystemError(err)})`,
        );
      }
    }
  };
  const times = new TimeSetter(linuxAttrs?.setTimesNs);
  const stack: DirFrame[] = [];

  const finish = async (frame: DirFrame): Promise<void> => {
    // Children's times may still be pending; they need search permission on this directory.
    await times.flush();
    await guard(frame.abs, async () => {
      restoreXattrs(frame.abs, frame.entry);
      if (sameOwner) await lchown(frame.abs, frame.entry.uid, frame.entry.gid);
      await chmod(frame.abs, frame.entry.mode & 0o7777);
    });
    await times.set(frame.abs, frame.entry.mtimeNs);
    await times.flush();
  };

  for await (const entry of decodeCatar(source, options)) {
    while (stack.length > 0 && !isChildOf(entry.path, (stack[stack.length - 1] as DirFrame).path)) {
      await finish(stack.pop() as DirFrame);
    }
    if (entry.path === '') {
      if (entry.kind !== 'directory') {
        throw new FileError(
          dir,
          `the archive's root is a ${entry.kind}, not a directory; nothing to extract into it`,
        );
      }
      stack.push({ path: '', abs: dir, entry });
      continue;
    }
    // decodeCatar yields children right after their parent: anything else is a bug or a forgery.
    if (stack.length === 0) throw new FileError(join(dir, entry.path), 'entry outside the archive root');
    const abs = join(dir, entry.path);
    switch (entry.kind) {
      case 'directory':
        await makeDirectory(abs, overwrite);
        stack.push({ path: entry.path, abs, entry });
        break;
      case 'file':
        await writeFileEntry(abs, entry, overwrite, sameOwner, restoreXattrs);
        await times.queue(abs, entry.mtimeNs);
        break;
      case 'symlink':
        await guard(abs, async () => {
          await clear(abs, overwrite, () => symlink(entry.target, abs));
          if (sameOwner) await lchown(abs, entry.uid, entry.gid);
        });
        await times.queue(abs, entry.mtimeNs);
        break;
      case 'device':
        if (!isRoot) {
          warn('device', 'device nodes are skipped: creating them needs root');
          break;
        }
        await makeSpecial(abs, overwrite, [
          'mknod',
          [
            '-m',
            '0600',
            '--',
            abs,
            (entry.mode & S_IFMT) === S_IFBLK ? 'b' : 'c',
            String(entry.major),
            String(entry.minor),
          ],
        ]);
        await setAttributes(abs, entry, sameOwner);
        await times.queue(abs, entry.mtimeNs);
        break;
      case 'fifo':
        await makeSpecial(abs, overwrite, ['mkfifo', ['-m', '0600', '--', abs]]);
        await setAttributes(abs, entry, sameOwner);
        await times.queue(abs, entry.mtimeNs);
        break;
      case 'socket':
        // A socket file is useless without its server, and casync extract also leaves it out.
        warn('socket', 'sockets are skipped: a socket cannot be restored without its server');
        break;
    }
  }
  while (stack.length > 0) await finish(stack.pop() as DirFrame);
  await times.flush();
}

function isChildOf(path: string, parent: string): boolean {
  return parent === '' ? path !== '' : path.startsWith(`${parent}/`);
}

async function guard<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(path, describeSystemError(err), { cause: err });
  }
}

async function prepareRoot(dir: string, overwrite: boolean): Promise<void> {
  let names: string[];
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new FileError(dir, 'exists and is not a directory');
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (err instanceof FileError) throw err;
      throw new FileError(dir, describeSystemError(err), { cause: err });
    }
    await guard(dir, () => makeDirs(dir, 0o700));
    return;
  }
  if (names.length > 0 && !overwrite) {
    throw new FileError(
      dir,
      'directory is not empty; extract into a new or empty directory, or pass overwrite',
    );
  }
}

// Runs `create`; with overwrite, an existing entry in the way is removed once and `create`
// retried. Without overwrite EEXIST stays an error (the root was empty, so it means a forgery).
async function clear(abs: string, overwrite: boolean, create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!overwrite || (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await rm(abs, { recursive: true, force: true });
    await create();
  }
}

async function makeDirectory(abs: string, overwrite: boolean): Promise<void> {
  await guard(abs, async () => {
    try {
      // Owner-writable until its contents are in; the archived mode is applied afterwards.
      await mkdir(abs, { mode: 0o700 });
    } catch (err) {
      if (!overwrite || (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await lstat(abs);
      if (st.isDirectory()) {
        await chmod(abs, 0o700);
      } else {
        await rm(abs, { force: true });
        await mkdir(abs, { mode: 0o700 });
      }
    }
  });
}

async function writeFileEntry(
  abs: string,
  entry: Extract<CatarEntry, { kind: 'file' }>,
  overwrite: boolean,
  sameOwner: boolean,
  restoreXattrs: (abs: string, entry: CatarEntry) => void,
): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  await guard(abs, async () => {
    await clear(abs, overwrite, async () => {
      handle = await open(abs, FILE_FLAGS, 0o600);
    });
  });
  const h = handle as Awaited<ReturnType<typeof open>>;
  try {
    for await (const block of entry.content) {
      let at = 0;
      while (at < block.length) {
        const { bytesWritten } = await guard(abs, () => h.write(block, at, block.length - at));
        at += bytesWritten;
      }
    }
    await guard(abs, async () => {
      restoreXattrs(abs, entry);
      // chown before chmod: chown clears setuid/setgid bits.
      if (sameOwner) await h.chown(entry.uid, entry.gid);
      await h.chmod(entry.mode & 0o7777);
    });
  } finally {
    await h.close();
  }
}

async function makeSpecial(abs: string, overwrite: boolean, [cmd, args]: [string, string[]]): Promise<void> {
  await guard(abs, async () => {
    try {
      await run(cmd, args);
    } catch (err) {
      if (!overwrite)
        throw new FileError(abs, `${cmd} failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
      await rm(abs, { recursive: true, force: true });
      await run(cmd, args);
    }
  });
}

async function setAttributes(abs: string, entry: CatarEntry, sameOwner: boolean): Promise<void> {
  await guard(abs, async () => {
    if (sameOwner) await lchown(abs, entry.uid, entry.gid);
    // Only reached for nodes just created here by mknod/mkfifo, so chmod cannot follow a link.
    await chmod(abs, entry.mode & 0o7777);
  });
}

/**
 * Sets mtimes (and atimes, to the same value) without following symlinks. Node's utimes goes
 * through libuv, which truncates to microseconds (uv__fs_to_timespec): times with a
 * sub-second part are set with utimensat through @desync/linux-attrs, or where that addon is
 * not built with `touch -h -c -d @s.ns`, a few at a time.
 */
class TimeSetter {
  private inflight = new Set<Promise<void>>();

  constructor(private readonly native?: (path: string, ns: bigint) => boolean) {}

  /** Starts setting the time; waits first when TIME_CONCURRENCY are under way. */
  async queue(abs: string, ns: bigint): Promise<void> {
    if (this.inflight.size >= TIME_CONCURRENCY) await this.flush();
    const p: Promise<void> = this.set(abs, ns);
    // Errors surface at flush; keep the rejection from being reported as unhandled meanwhile.
    p.catch(() => {});
    this.inflight.add(p);
  }

  async set(abs: string, ns: bigint): Promise<void> {
    const sec = ns / 1_000_000_000n;
    const frac = ns % 1_000_000_000n;
    await guard(abs, async () => {
      if (this.native?.(abs, ns)) return;
      if (frac === 0n) {
        await lutimes(abs, Number(sec), Number(sec));
      } else {
        await run('touch', ['-h', '-c', '-d', `@${sec}.${frac.toString().padStart(9, '0')}`, '--', abs]);
      }
    });
  }

  async flush(): Promise<void> {
    const all = [...this.inflight];
    this.inflight.clear();
    const results = await Promise.allSettled(all);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }
}
