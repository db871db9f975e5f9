import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { getAttributeSync, listAttributesSync } from 'fs-xattr';

// The user. and trusted. extended attributes of a file or directory, sorted.
function xattrsOf(abs: string): string {
  const names = listAttributesSync(abs)
    .filter((n) => n.startsWith('user.') || n.startsWith('trusted.'))
    .sort();
  return names.map((n) => `${n}=${getAttributeSync(abs, n).toString('hex')}`).join(',');
}

/**
 * One line per node: type+mode, owner, mtime in ns, size or target, content hash, extended
 * attributes. Sockets are left out: extraction skips them by design.
 */
export async function snapshotTree(root: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '' ? root : join(root, rel);
    const st = await lstat(abs, { bigint: true });
    if (st.isSocket()) return;
    let extra = '';
    if (st.isFile())
      extra = `${st.size} ${createHash('sha256')
        .update(await readFile(abs))
        .digest('hex')}`;
    else if (st.isSymbolicLink()) extra = `-> ${await readlink(abs)}`;
    else if (st.isCharacterDevice() || st.isBlockDevice()) extra = `rdev ${st.rdev}`;
    if (st.isFile() || st.isDirectory()) extra += ` xattrs=${xattrsOf(abs)}`;
    lines.push(`${rel || '.'} mode=${st.mode.toString(8)} ${st.uid}:${st.gid} mtime=${st.mtimeNs} ${extra}`);
    if (st.isDirectory()) {
      for (const name of (await readdir(abs)).sort()) {
        const child = rel === '' ? name : `${rel}/${name}`;
        await walk(child);
      }
    }
  };
  await walk('');
  return lines;
}
