import { readdir, readFile } from 'node:fs/promises';

export { freePort, stopChild, waitForPort } from '@desync/testkit';

/** The soft and hard RLIMIT_NOFILE of a process (`self` or a pid), from /proc; null when unknown. */
export async function openFileLimit(
  pid: number | 'self' = 'self',
): Promise<{ soft: number; hard: number } | null> {
  try {
    const limits = await readFile(`/proc/${pid}/limits`, 'utf8');
    const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
    if (!match) return null;
    const value = (text: string) => (text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text));
    return { soft: value(match[1]), hard: value(match[2]) };
  } catch {
    return null;
  }
}

/** What sampleProcess saw; null fields when /proc could not be read. */
export interface ProcessPeaks {
  /** The largest VmRSS sampled, KiB. */
  peakRssKb: number | null;
  /** VmHWM at the end: the process's peak RSS over its whole life, KiB. */
  hwmKb: number | null;
  /** The most entries seen in /proc/PID/fd. */
  peakFds: number | null;
  samples: number;
}

/** Samples a process until stop() is called. */
export interface ProcessSampler {
  /** Stops sampling and returns the peaks seen. */
  stop(): Promise<ProcessPeaks>;
}

/** Samples /proc/PID/status (VmRSS, VmHWM) and counts /proc/PID/fd every `intervalMs`. */
export function sampleProcess(pid: number, intervalMs = 200): ProcessSampler {
  let peakRssKb: number | null = null;
  let hwmKb: number | null = null;
  let peakFds: number | null = null;
  let samples = 0;
  let busy: Promise<void> = Promise.resolve();
  const once = async () => {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
      if (rss) peakRssKb = Math.max(peakRssKb ?? 0, Number(rss[1]));
      const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
      if (hwm) hwmKb = Math.max(hwmKb ?? 0, Number(hwm[1]));
      const fds = (await readdir(`/proc/${pid}/fd`)).length;
      peakFds = Math.max(peakFds ?? 0, fds);
      samples++;
    } catch {
      // The process is gone or /proc is not there; the last good sample stands.
    }
  };
  const timer = setInterval(() => {
    busy = busy.then(once);
  }, intervalMs);
  busy = busy.then(once);
  return {
    stop: async () => {
      clearInterval(timer);
      await busy;
      await once();
      return { peakRssKb, hwmKb, peakFds, samples };
    },
  };
}

/**
 * The kernel's count of connections dropped because a listen queue was full (TcpExt
 * ListenOverflows in /proc/net/netstat), for the whole machine; null when unreadable.
 */
export async function listenOverflows(): Promise<number | null> {
  try {
    const lines = (await readFile('/proc/net/netstat', 'utf8')).split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      if (!lines[i].startsWith('TcpExt:') || !lines[i + 1].startsWith('TcpExt:')) continue;
      const names = lines[i].split(/\s+/);
      const values = lines[i + 1].split(/\s+/);
      const at = names.indexOf('ListenOverflows');
      return at < 0 ? null : Number(values[at]);
    }
    return null;
  } catch {
    return null;
  }
}
