import { readFile } from 'node:fs/promises';

/**
 * Clock ticks per second of /proc/<pid>/stat's CPU times (sysconf(_SC_CLK_TCK)). Linux reports
 * them in USER_HZ, which is 100 on every architecture Node runs on.
 */
export const PROC_TICKS_PER_SECOND = 100;

/**
 * User + system CPU time of a process in clock ticks, from the text of /proc/<pid>/stat. The
 * command name (field 2) is in parentheses and may itself contain spaces and parentheses, so the
 * fields are counted from the last ')'. Null when the text is not a stat line.
 */
export function cpuTicksFromProcStat(text: string): number | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // After ')': field 3 (state) is index 0, so utime (field 14) is index 11 and stime index 12.
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return utime + stime;
}

/** CPU used between two readings, as a percentage of one core. */
export function cpuPercent(
  before: { ticks: number; atMs: number },
  after: { ticks: number; atMs: number },
): number | null {
  const elapsedMs = after.atMs - before.atMs;
  if (elapsedMs <= 0) return null;
  const cpuMs = ((after.ticks - before.ticks) * 1000) / PROC_TICKS_PER_SECOND;
  return (cpuMs / elapsedMs) * 100;
}

/** CPU seconds a process has used so far; null once it has gone (or off Linux). */
export async function readProcessCpuSeconds(pid: number): Promise<number | null> {
  try {
    const ticks = cpuTicksFromProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
    return ticks === null ? null : ticks / PROC_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
