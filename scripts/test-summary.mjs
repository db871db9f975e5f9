// Prints the closing line CI reads ("N passed, N failed, N skipped") from vitest's JSON
// reports, one per run (this machine's Node, Node 24, the codec tests on Node 22): a line per
// run, then the total.
import { readFileSync } from 'node:fs';

function count(file) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { passed: 0, failed: 1, skipped: 0 };
  }
  // A test file that fails to load counts as a failure even though it ran no test.
  const brokenFiles = (report.testResults ?? []).filter(
    (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
  ).length;
  return {
    passed: report.numPassedTests ?? 0,
    failed: (report.numFailedTests ?? 0) + brokenFiles,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
  };
}

const files = process.argv.slice(2);
const total = { passed: 0, failed: 0, skipped: 0 };
const line = (c) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
for (const [i, file] of files.entries()) {
  const c = count(file);
  if (files.length > 1) console.log(`run ${i + 1} of ${files.length}: ${line(c)}`);
  for (const k of Object.keys(total)) total[k] += c[k];
}
if (files.length === 0) total.failed = 1;
console.log(line(total));
