import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Records that this test file used a stand-in for a real part (our own RTSP server for the camera
 * emulator, generated footage for real footage). The test command (scripts/test.mjs) counts them
 * per file and reports them on its last line, like skips: a pass against a stand-in is not a pass
 * against the real part.
 */
export function reportStandIn(reason: string): void {
  const file = process.env.VIGIL_TEST_STANDINS;
  if (!file) return;
  const testFile = process.argv.find((arg) => arg.endsWith('.test.ts')) ?? 'unknown test file';
  appendFileSync(file, `${JSON.stringify({ reason, file: basename(testFile) })}\n`);
}
