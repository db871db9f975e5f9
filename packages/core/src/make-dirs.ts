import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

// `mkdir -p`. Node's own `{ recursive: true }` (20 to 24) never returns on a file system that
// answers ENOENT for a directory whose parent exists (/proc, /sys): it retries the same path
// without end, at full CPU. Here each level is tried at most twice, and that ENOENT is thrown.

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/** Creates `dir` and its missing parents (each with `mode`); nothing when it is a directory already. */
export function makeDirsSync(dir: string, mode?: number): void {
  try {
    mkdirSync(dir, { mode });
    return;
  } catch (err) {
    if (code(err) === 'EEXIST' && isDirectorySync(dir)) return;
    const parent = dirname(dir);
    if (code(err) !== 'ENOENT' || parent === dir) throw err;
    makeDirsSync(parent, mode);
  }
  try {
    mkdirSync(dir, { mode });
  } catch (err) {
    if (code(err) === 'EEXIST' && isDirectorySync(dir)) return; // made meanwhile by another
    throw err;
  }
}

/** makeDirsSync without blocking the thread. */
export async function makeDirs(dir: string, mode?: number): Promise<void> {
  try {
    await mkdir(dir, { mode });
    return;
  } catch (err) {
    if (code(err) === 'EEXIST' && (await isDirectory(dir))) return;
    const parent = dirname(dir);
    if (code(err) !== 'ENOENT' || parent === dir) throw err;
    await makeDirs(parent, mode);
  }
  try {
    await mkdir(dir, { mode });
  } catch (err) {
    if (code(err) === 'EEXIST' && (await isDirectory(dir))) return;
    throw err;
  }
}

function isDirectorySync(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
