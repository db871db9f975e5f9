import { spawn } from 'node:child_process';
import type { RemotePipes } from './pull-session.js';
import type { SshLocation } from './ssh-location.js';
import { StderrTail, settleWithin } from './stderr-tail.js';

/**
 * Runs `remoteCommand` on the store's host through an ssh command, as casync does with
 * CASYNC_SSH_PATH: `SSH [-p PORT] [user@]host REMOTE_COMMAND`. The ssh command does the host
 * key checks and authentication itself (its own config, agent and known_hosts).
 */
export function spawnCommandPipes(
  sshPath: string,
  location: SshLocation,
  remoteCommand: string,
): RemotePipes {
  const target = location.user ? `${location.user}@${location.host}` : location.host;
  const args = [...(location.port !== undefined ? ['-p', String(location.port)] : []), target, remoteCommand];
  const child = spawn(sshPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = new StderrTail(child.stderr);
  let spawnError: Error | undefined;
  let exitText = '';
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      resolve();
    });
    child.once('close', (code, signal) => {
      exitText = signal ? `${sshPath} was killed by ${signal}` : `${sshPath} exited with status ${code}`;
      resolve();
    });
  });
  let closed = false;
  return {
    stdout: child.stdout,
    stdin: child.stdin,
    stderrTail: () => {
      if (spawnError) return `cannot run ${sshPath} (CASYNC_SSH_PATH): ${spawnError.message}`;
      return stderr.text() || exitText;
    },
    settle: () => settleWithin(exited, 1000),
    close: () => {
      if (closed) return;
      closed = true;
      if (!child.stdin.destroyed) child.stdin.end();
      // The remote exits on end of input; one that does not is stopped.
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      }, 2000);
      timer.unref();
      exited.then(() => clearTimeout(timer));
    },
  };
}
