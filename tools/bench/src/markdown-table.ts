/**
 * Renders a GitHub markdown table padded the way biome's markdown formatter pads it (cells
 * padded to the column width, `---:` for right-aligned columns), so generated reports pass
 * `biome check` and read well as plain text.
 * @param right for each column, true to right-align it (numbers), false for left (text).
 */
export function markdownTable(
  headers: readonly string[],
  right: readonly boolean[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, i) => Math.max(header.length, 3, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => (right[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((width, i) => (right[i] ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width))).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
