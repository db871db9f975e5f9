import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from '@desync/testkit';
import { setAttributeSync } from 'fs-xattr';

/** One node of a test tree; paths are relative to the tree root, parents listed first. */
/** Extended attributes to set (fs-xattr), and chattr +d (nodump). */
interface NodeExtras {
  xattrs?: Record<string, string | Uint8Array>;
  nodump?: boolean;
}

export type TreeNode =
  | ({ kind: 'dir'; path: string; mode?: number } & NodeExtras)
  | ({
      kind: 'file';
      path: string;
      data?: Uint8Array | string;
      mode?: number;
      owner?: [number, number];
    } & NodeExtras)
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'fifo'; path: string; mode?: number }
  | { kind: 'socket'; path: string }
  | { kind: 'chardev' | 'blockdev'; path: string; major: number; minor: number };

/** Sockets stay bound while the tree is in use; close() unbinds them (and removes their files). */
export interface BuiltTree {
  close(): Promise<void>;
}

/** Whether this process may create device nodes (root, outside a restricted container). */
export function canMknod(dir: string): boolean {
  try {
    execFileSync('mknod', [join(dir, 'probe-dev'), 'c', '1', '3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates `nodes` under `root`, then gives every node (root last) a distinct mtime with
 * nanoseconds via `touch -h -d @s.ns`, so both encoders see one fixed tree.
 */
export async function makeTree(root: string, nodes: readonly TreeNode[], seed = 1): Promise<BuiltTree> {
  const servers: Server[] = [];
  await mkdir(root, { recursive: true });
  for (const [i, n] of nodes.entries()) {
    const p = join(root, n.path);
    switch (n.kind) {
      case 'dir':
        await mkdir(p);
        break;
      case 'file':
        await writeFile(p, n.data ?? randomBytes(i % 50, seed + i));
        if (n.owner) await chown(p, n.owner[0], n.owner[1]);
        break;
      case 'symlink':
        await symlink(n.target, p);
        break;
      case 'fifo':
        execFileSync('mkfifo', [p]);
        break;
      case 'socket': {
        const server = createServer();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(p, resolve);
        });
        servers.push(server);
        break;
      }
      case 'chardev':
      case 'blockdev':
        execFileSync('mknod', [p, n.kind === 'chardev' ? 'c' : 'b', String(n.major), String(n.minor)]);
        break;
    }
    if ((n.kind === 'file' || n.kind === 'dir') && n.xattrs) {
      for (const [name, value] of Object.entries(n.xattrs)) setAttributeSync(p, name, Buffer.from(value));
    }
    if ((n.kind === 'file' || n.kind === 'dir') && n.nodump) execFileSync('chattr', ['+d', p]);
    if ('mode' in n && n.mode !== undefined) await chmod(p, n.mode);
  }
  // Children before parents: touching a child would otherwise not change, but creating does.
  const paths = [...nodes.map((n) => join(root, n.path)).reverse(), root];
  for (const [i, p] of paths.entries()) {
    const ns = String((seed * 7919 + i * 104729) % 1_000_000_000).padStart(9, '0');
    execFileSync('touch', ['-h', '-d', `@${1_500_000_000 + seed * 1000 + i}.${ns}`, p]);
  }
  return {
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
