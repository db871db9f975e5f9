import type { Progress } from '@desync/engine';
import { SingleBar } from 'cli-progress';

/** How progress is shown (`--progress`, env `DESYNC_PROGRESS`). */
export type ProgressMode = 'auto' | 'none' | 'json';

/** The values `--progress` takes. */
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'none', 'json'];

/** What progressBar reads from a command's parsed flags. */
export interface ProgressFlags {
  progress?: string | undefined;
}

type Unit = 'bytes' | 'chunks';

// Progress events come once per chunk; a line per event would flood a log reader, so
// updates are sent at most this often (start and stop always).
const JSON_INTERVAL_MS = 200;

function modeOf(flags: ProgressFlags | undefined): ProgressMode {
  // Without flags (a command that does not declare --progress yet), the environment still
  // applies, so DESYNC_PROGRESS=json works for every command.
  const value = flags?.progress ?? process.env.DESYNC_PROGRESS ?? 'auto';
  return (PROGRESS_MODES as readonly string[]).includes(value) ? (value as ProgressMode) : 'auto';
}

/**
 * Progress on stderr as `--progress` asks: `auto` draws a bar when stderr is a terminal and
 * nothing otherwise, `none` nothing, `json` one JSON object per line
 * (`{"event":"start"|"progress"|"stop","operation","unit","done","total"}`, and for extract
 * `"from"`: bytes so far by origin, e.g. `{"seed":…,"/var/store":…}`) for wrappers.
 * Call as `progressBar()`, `progressBar(flags)`, `progressBar('chunks')` or
 * `progressBar('chunks', flags)`.
 */
export function progressBar(
  unitOrFlags?: Unit | ProgressFlags,
  maybeFlags?: ProgressFlags,
): Progress | undefined {
  const unit: Unit = typeof unitOrFlags === 'string' ? unitOrFlags : 'bytes';
  const flags = typeof unitOrFlags === 'object' ? unitOrFlags : maybeFlags;
  const mode = modeOf(flags);
  if (mode === 'json') return jsonProgress(unit);
  if (mode === 'none' || !process.stderr.isTTY) return undefined;
  return terminalBar(unit);
}

/** Progress as JSON lines on stderr. */
export function jsonProgress(unit: Unit, write = (line: string) => process.stderr.write(line)): Progress {
  let operation = '';
  let total = 0;
  let done = 0;
  let sentAt = 0;
  let from: Readonly<Record<string, number>> | undefined;
  const send = (event: string) => {
    write(`${JSON.stringify({ event, operation, unit, done, total, ...(from ? { from } : {}) })}\n`);
  };
  return {
    start(label, t) {
      operation = label;
      total = t;
      done = 0;
      sentAt = 0;
      from = undefined;
      send('start');
    },
    update(d, origins) {
      done = d;
      if (origins) from = origins;
      const now = Date.now();
      if (now - sentAt < JSON_INTERVAL_MS) return;
      sentAt = now;
      send('progress');
    },
    stop() {
      send('stop');
    },
  };
}

function terminalBar(unit: Unit): Progress {
  let bar: SingleBar | undefined;
  const format =
    unit === 'bytes'
      ? '{label} [{bar}] {percentage}% | {mb}/{totalmb} MB | ETA {eta}s'
      : '{label} [{bar}] {value} chunks';
  let total = 0;
  return {
    start(label, t) {
      total = t;
      bar = new SingleBar({
        format,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        fps: 10,
      });
      bar.start(Math.max(1, t), 0, { label, mb: '0', totalmb: (t / 1e6).toFixed(0) });
    },
    update(done) {
      if (total === 0 && bar) bar.setTotal(Math.max(done, 1));
      bar?.update(done, { mb: (done / 1e6).toFixed(0) });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
