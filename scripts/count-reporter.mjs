// A node:test reporter that writes one JSON summary (leaf tests only), so the test command can end
// with a plain "N passed, N failed" line that shows at a glance whether anything ran.
export default async function* countReporter(source) {
  const summary = { passed: 0, failed: 0, skipped: 0, skipReasons: {}, failures: [] };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const skipped = event.data.skip !== undefined && event.data.skip !== false;
    // A suite counts only when skipped as a whole: node reports no events for the tests in it.
    const suite = event.data.details?.type === 'suite';
    if (suite && !skipped) continue;
    const todo = event.data.todo !== undefined && event.data.todo !== false;
    if (todo) {
      // A known defect, written down as a test: it runs and is reported, failing or not.
      const why = typeof event.data.todo === 'string' ? event.data.todo : 'todo';
      const reason = `known defect (${event.type === 'test:pass' ? 'now passing' : 'still failing'}): ${why}`;
      summary.skipReasons[reason] = (summary.skipReasons[reason] ?? 0) + 1;
    } else if (skipped) {
      summary.skipped += 1;
      const why = typeof event.data.skip === 'string' ? event.data.skip : 'skipped';
      const reason = suite ? `${why} (a whole group of tests, counted once)` : why;
      summary.skipReasons[reason] = (summary.skipReasons[reason] ?? 0) + 1;
    } else if (event.type === 'test:pass') {
      summary.passed += 1;
    } else {
      summary.failed += 1;
      summary.failures.push(`${event.data.file ?? ''} ${event.data.name}`);
    }
  }
  yield JSON.stringify(summary);
}
