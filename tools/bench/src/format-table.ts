import { markdownTable } from './markdown-table.js';

/** One row of the results table: the medians of one workload run by one tool. */
export interface TableRow {
  /** What ran, e.g. `mixed 512 MiB: make (new chunks)`. */
  workload: string;
  /** `desync` or `casync`. */
  tool: string;
  /** Input MiB per wall second. */
  mbPerSecond: number;
  /** Wall-clock seconds. */
  wallSeconds: number;
  /** User + system CPU seconds; null when they could not be measured. */
  cpuSeconds: number | null;
  /** Peak resident set size in MiB; null when it could not be measured. */
  peakRssMb: number | null;
  /** Our MiB/s over casync's for the same workload; null on casync's rows or without casync. */
  ratio: number | null;
}

const HEADERS = ['workload', 'tool', 'MB/s', 'wall s', 'CPU s', 'peak RSS MB', 'ratio'];
// Text columns left, numbers right, so columns of figures line up in a terminal too.
const RIGHT = [false, false, true, true, true, true, true];

function fixed(value: number | null, digits: number): string {
  return value === null || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

/** Renders rows as a GitHub markdown table, padded so it also reads well as plain text. */
export function formatTable(rows: readonly TableRow[]): string {
  return markdownTable(
    HEADERS,
    RIGHT,
    rows.map((row) => [
      row.workload,
      row.tool,
      fixed(row.mbPerSecond, 1),
      fixed(row.wallSeconds, 2),
      fixed(row.cpuSeconds, 2),
      fixed(row.peakRssMb, 1),
      row.ratio === null ? '' : fixed(row.ratio, 2),
    ]),
  );
}
