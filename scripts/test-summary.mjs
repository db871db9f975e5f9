// Prints the closing line CI reads ("N passed, N failed, N skipped") from vitest's JSON
// reports, one per run (this machine's Node, Node 24, the codec tests on Node 22): the tests
// that failed, by file and name (CI keeps only part of the log, so they are repeated here), a
// line per run, then the total.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

function failures(report) {
  const lines = [];
  for (const f of report.testResults ?? []) {
    const name = relative(process.cwd(), f.name ?? '?');
    const failed = (f.assertionResults ?? []).filter((t) => t.status === 'failed');
    if (f.status === 'failed' && failed.length === 0) {
      lines.push(`FAIL ${name}: ${firstLine(f.message)}`);
    }
    for (const t of failed) {
      lines.push(`FAIL ${name} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
    }
  }
  return lines;
}

function firstLine(message) {
  return (message ?? '').split('\n')[0].slice(0, 300);
}

function count(file) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { passed: 0, failed: 1, skipped: 0, failures: [`FAIL: no report in ${file}`] };
  }
  // A test file that fails to load counts as a failure even though it ran no test.
  const brokenFiles = (report.testResults ?? []).filter(
    (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
  ).length;
  return {
    passed: report.numPassedTests ?? 0,
    failed: (report.numFailedTests ?? 0) + brokenFiles,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
    failures: failures(report),
  };
}

const files = process.argv.slice(2);
const total = { passed: 0, failed: 0, skipped: 0 };
const line = (c) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
const counts = files.map(count);
for (const [i, c] of counts.entries()) {
  for (const f of c.failures) console.log(`run ${i + 1}: ${f}`);
}
for (const [i, c] of counts.entries()) {
  if (files.length > 1) console.log(`run ${i + 1} of ${files.length}: ${line(c)}`);
  for (const k of Object.keys(total)) total[k] += c[k];
}
if (files.length === 0) total.failed = 1;
console.log(line(total));
