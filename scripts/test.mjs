#!/usr/bin/env node
// The whole test suite: formatting, lint, type check, then every test file under node's test runner.
// Ends with a plain line "N passed, N failed" (plus skips and their reasons) that CI parses.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const args = process.argv.slice(2);
const onlyTests = args.includes('--tests-only');
const roots = args.filter((a) => !a.startsWith('--'));
let passed = 0;
let failed = 0;
const failures = [];

function check(name, cmd, cmdArgs) {
  const started = Date.now();
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  const ok = r.status === 0;
  console.log(`${ok ? 'ok' : 'FAILED'} ${name} (${Date.now() - started} ms)`);
  if (ok) passed += 1;
  else {
    failed += 1;
    failures.push(name);
  }
}

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (entry.endsWith('.test.ts')) out.push(full);
  }
  return out.sort();
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
if (!onlyTests) {
  check('format (prettier --check)', bin('prettier'), ['--check', '--log-level', 'warn', '.']);
  check('lint (eslint, zero warnings)', bin('eslint'), ['--max-warnings', '0', '.']);
  check('dependency rule (dependency-cruiser)', bin('depcruise'), [
    'src',
    'web/src',
    '--config',
    '.dependency-cruiser.cjs',
    '--output-type',
    'err',
  ]);
  check('typecheck (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  check('typecheck web UI (tsc)', bin('tsc'), ['-p', 'web/tsconfig.json']);
}
// The end-to-end tests drive the built UI, as users get it.
check('build web UI (vite)', bin('vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']);

const files = (roots.length ? roots : ['test']).flatMap((r) =>
  r.endsWith('.ts') ? [resolve(root, r)] : findTests(resolve(root, r)),
);
const summaryDir = mkdtempSync(join(tmpdir(), 'vigil-test-'));
const summaryFile = join(summaryDir, 'summary.json');
// Test helpers append a line here when a stand-in replaced a real part (test/helpers/stand-ins.ts).
const standInsFile = join(summaryDir, 'stand-ins.jsonl');
const run = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    // One file at a time: integration tests record real-time video and must not starve each other.
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'count-reporter.mjs')}`,
    `--test-reporter-destination=${summaryFile}`,
    ...files,
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, VIGIL_TEST: '1', VIGIL_TEST_STANDINS: standInsFile },
  },
);
let summary;
try {
  summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
} catch {
  summary = {
    passed: 0,
    failed: 1,
    skipped: 0,
    skipReasons: {},
    failures: [`test runner exited ${run.status}`],
  };
}
passed += summary.passed;
failed += summary.failed;
failures.push(...summary.failures);
if (failures.length) console.log(`\nFailed:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
const skips = Object.entries(summary.skipReasons)
  .map(([reason, n]) => (reason.startsWith('known defect') ? `${n} ${reason}` : `${n} skipped: ${reason}`))
  .join('; ');
// Files that ran against a stand-in, per reason.
const standIns = new Map();
const standInLines = existsSync(standInsFile) ? readFileSync(standInsFile, 'utf8').split('\n') : [];
for (const line of standInLines.filter(Boolean)) {
  const { reason, file } = JSON.parse(line);
  standIns.set(reason, (standIns.get(reason) ?? new Set()).add(file));
}
const standInText = [...standIns]
  .map(([reason, files]) => `${files.size} test files with a stand-in: ${reason}`)
  .join('; ');
const extras = [skips, standInText].filter(Boolean).join('; ');
console.log(`\n${passed} passed, ${failed} failed${extras ? `, ${extras}` : ''}`);
process.exit(failed === 0 && run.status === 0 ? 0 : 1);
