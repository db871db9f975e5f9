import { describe, expect, it } from 'vitest';
import { formatTable } from '../src/format-table.js';
import { median } from '../src/median.js';

describe('formatTable', () => {
  it('renders a markdown table with padded columns and n/a for unmeasured values', () => {
    const table = formatTable([
      {
        workload: 'mixed 64 MiB: make (new chunks)',
        tool: 'desync-ts',
        mbPerSecond: 123.456,
        wallSeconds: 0.5184,
        cpuSeconds: 1.2,
        peakRssMb: 88.04,
        ratio: 1.234,
      },
      {
        workload: 'mixed 64 MiB: make (new chunks)',
        tool: 'casync',
        mbPerSecond: 100,
        wallSeconds: 0.64,
        cpuSeconds: null,
        peakRssMb: null,
        ratio: null,
      },
    ]);
    expect(table).toBe(
      [
        '| workload                        | tool      |  MB/s | wall s | CPU s | peak RSS MB | ratio |',
        '| ------------------------------- | --------- | ----: | -----: | ----: | ----------: | ----: |',
        '| mixed 64 MiB: make (new chunks) | desync-ts | 123.5 |   0.52 |  1.20 |        88.0 |  1.23 |',
        '| mixed 64 MiB: make (new chunks) | casync    | 100.0 |   0.64 |   n/a |         n/a |       |',
      ].join('\n'),
    );
  });

  it('renders just the header for no rows', () => {
    expect(formatTable([]).split('\n')).toHaveLength(2);
  });
});

describe('median', () => {
  it('takes the middle value, averaging the middle two, and ignores nulls', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([null, 5])).toBe(5);
    expect(median([null])).toBeNull();
  });
});
