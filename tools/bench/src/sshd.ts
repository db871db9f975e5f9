import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findExecutable, isExecutable } from '@desync/testkit';
import { freePort, stopChild, waitForPort } from './net-util.js';

const run = promisify(execFile);

/** The OpenSSH programs the ssh workloads need. */
export interface SshPrograms {
  sshd: string;
  ssh: string;
  sshKeygen: string;
}

/** Finds sshd, ssh and ssh-keygen; returns the names of the missing ones instead when some are. */
export function findSshPrograms(): SshPrograms | { missing: string[] } {
  const sbin = ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((path) => isExecutable(path));
  const found = {
    sshd: findExecutable('sshd') ?? sbin,
    ssh: findExecutable('ssh'),
    'ssh-keygen': findExecutable('ssh-keygen'),
  };
  const missing = Object.entries(found)
    .filter(([, path]) => path === undefined)
    .map(([name]) => name);
  if (missing.length > 0 || !found.sshd || !found.ssh || !found['ssh-keygen']) return { missing };
  return { sshd: found.sshd, ssh: found.ssh, sshKeygen: found['ssh-keygen'] };
}

/** A throwaway OpenSSH server on 127.0.0.1 that lets the current user in with a temp key. */
export interface BenchSshd {
  readonly port: number;
  readonly user: string;
  /** A HOME whose .ssh holds id_ed25519 and known_hosts, for our ssh2 transport. */
  readonly home: string;
  /** CASYNC_SSH_PATH for casync (adds -p PORT: `host:/path` has no port). */
  readonly sshWithPort: string;
  /** CASYNC_SSH_PATH for our client (the port comes from the ssh:// location as -p). */
  readonly sshPlain: string;
  stop(): Promise<void>;
}

/**
 * Starts sshd (`-D -e -f CONFIG`) as the current user with a host key, a user key and
 * known_hosts made by ssh-keygen in a temp dir under `parent`.
 */
export async function startSshd(programs: SshPrograms, parent: string): Promise<BenchSshd> {
  const dir = await mkdtemp(join(parent, 'sshd-'));
  const hostKey = join(dir, 'host_ed25519');
  const userKey = join(dir, 'user_ed25519');
  await run(programs.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await run(programs.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', userKey]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${userKey}.pub`));
  const port = await freePort();
  const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHosts = join(dir, 'known_hosts');
  const knownLine = `[127.0.0.1]:${port} ${hostPublicKey}\n`;
  await writeFile(knownHosts, knownLine);
  const home = join(dir, 'home');
  await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  await writeFile(join(home, '.ssh', 'id_ed25519'), await readFile(userKey), { mode: 0o600 });
  await writeFile(join(home, '.ssh', 'known_hosts'), knownLine);
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin yes',
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      // Our client opens up to 10 sessions at once.
      'MaxStartups 100',
      'MaxSessions 100',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // sshd started as root insists on its privilege separation directory.
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const child: ChildProcess = spawn(programs.sshd, ['-D', '-e', '-f', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (piece: Buffer) => {
    log = (log + piece.toString()).slice(-4000);
  });
  try {
    await waitForPort(port, child, 'sshd', () => log);
  } catch (error) {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const user = userInfo().username;
  const wrapper = async (name: string, withPort: boolean): Promise<string> => {
    const file = join(dir, name);
    const options = [
      `-i '${userKey}'`,
      `-o UserKnownHostsFile='${knownHosts}'`,
      '-o GlobalKnownHostsFile=/dev/null',
      '-o BatchMode=yes',
      '-o IdentitiesOnly=yes',
      '-o StrictHostKeyChecking=no',
      '-o LogLevel=ERROR',
      `-l ${user}`,
      ...(withPort ? [`-p ${port}`] : []),
    ].join(' ');
    await writeFile(file, `#!/bin/sh\nexec '${programs.ssh}' -F /dev/null ${options} "$@"\n`, {
      mode: 0o755,
    });
    return file;
  };
  return {
    port,
    user,
    home,
    sshWithPort: await wrapper('ssh-with-port', true),
    sshPlain: await wrapper('ssh-plain', false),
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
