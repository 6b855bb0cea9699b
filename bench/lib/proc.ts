/**
 * CPU and memory of process trees, read from Linux /proc. Benchmarks sample a tree every second:
 * children come and go (an ffmpeg restarted by a supervisor), and the kernel only credits a
 * reaped child's CPU to its parent's cutime, which a reading of the parent's own utime+stime
 * never shows. So every process seen at a sample keeps its last reading, and CPU is summed per
 * process over the window.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** Start time since boot in clock ticks: with the pid, tells a reused pid from the old process. */
  startTicks: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

/** Clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat times. */
export function clockTicksPerSecond(): number {
  const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(value) || value <= 0) throw new Error(`getconf CLK_TCK gave '${value}'`);
  return value;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // The process exited between listing /proc and reading it: normal while sampling.
    return null;
  }
}

export function readStat(pid: number): ProcStat | null {
  const text = readText(`/proc/${pid}/stat`);
  if (text === null) return null;
  // comm is in parentheses and may itself hold spaces and parentheses: the last ')' ends it.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  // Fields after comm, numbered from 3 (state) as in proc(5).
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  return {
    pid,
    ppid: field(4),
    comm,
    startTicks: field(22),
    cpuTicks: field(14) + field(15),
  };
}

/** Every process on the machine, by pid. */
export function scanProcesses(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) out.set(stat.pid, stat);
  }
  return out;
}

/** The roots and all their descendants that are alive in `all`. */
export function processTree(all: Map<number, ProcStat>, roots: readonly number[]): ProcStat[] {
  const children = new Map<number, number[]>();
  for (const p of all.values()) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const out: ProcStat[] = [];
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const stat = all.get(pid);
    if (!stat) continue;
    out.push(stat);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

function statusKb(pid: number, key: string): number | null {
  const text = readText(`/proc/${pid}/status`);
  if (text === null) return null;
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  // Kernel threads and zombies have no VmRSS line: they hold no user memory.
  return match ? Number(match[1]) : 0;
}

/** Resident set size in bytes (VmRSS), or null if the process has gone. */
export function rssBytes(pid: number): number | null {
  const kb = statusKb(pid, 'VmRSS');
  return kb === null ? null : kb * 1024;
}

/**
 * Proportional set size in bytes: shared pages (ffmpeg's libraries, mapped by every ffmpeg) are
 * divided among the processes that map them, so a sum over many processes does not count them
 * many times, as a sum of RSS does.
 */
export function pssBytes(pid: number): number | null {
  const text = readText(`/proc/${pid}/smaps_rollup`);
  if (text === null) return null;
  const match = /^Pss:\s+(\d+) kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * CPU time of the whole machine, in clock ticks, from the first line of /proc/stat. Steal (time
 * the hypervisor gave to other guests) is apart: on a shared host it is the noise, not the load.
 */
export function machineTicks(): { busy: number; steal: number; total: number } {
  const line = (readText('/proc/stat') ?? '').split('\n')[0] ?? '';
  // user nice system idle iowait irq softirq steal; guest times are already inside user and nice.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy, steal, total: busy + idle + iowait + steal };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface TreeUsage {
  /** utime+stime summed over every process of the tree during the window. */
  cpuSeconds: number;
  /** CPU seconds by command name (comm), to show where the time went. */
  cpuSecondsByComm: Record<string, number>;
  rssMedianBytes: number;
  rssMaxBytes: number;
  /** Median over the samples of the RSS summed by command name. */
  rssMedianBytesByComm: Record<string, number>;
  pssMedianBytes: number;
  /** Distinct processes seen in the tree during the window. */
  processCount: number;
  /** Processes seen at the first sample that had gone by the last: restarts, crashes. */
  exitedCount: number;
}

/**
 * CPU and memory of one process tree over a window. Feed it the same scan as other meters at
 * each sample; the first sample opens the window and the last one given closes it.
 */
export class TreeMeter {
  private readonly atStart = new Map<string, number>();
  private readonly last = new Map<string, { ticks: number; comm: string }>();
  private readonly rss: number[] = [];
  private readonly pss: number[] = [];
  private readonly rssByComm: Array<Map<string, number>> = [];
  private started = false;
  private lastKeys = new Set<string>();

  constructor(
    private readonly roots: () => readonly number[],
    private readonly ticksPerSecond: number,
    /** PSS walks each process's page tables: worth it once a second, optional all the same. */
    private readonly withPss = true,
  ) {}

  sample(all: Map<number, ProcStat>): void {
    const tree = processTree(all, this.roots());
    let rss = 0;
    let pss = 0;
    const byComm = new Map<string, number>();
    const keys = new Set<string>();
    for (const p of tree) {
      const key = `${p.pid}:${p.startTicks}`;
      keys.add(key);
      if (!this.started) this.atStart.set(key, p.cpuTicks);
      this.last.set(key, { ticks: p.cpuTicks, comm: p.comm });
      const processRss = rssBytes(p.pid) ?? 0;
      rss += processRss;
      byComm.set(p.comm, (byComm.get(p.comm) ?? 0) + processRss);
      if (this.withPss) pss += pssBytes(p.pid) ?? 0;
    }
    this.started = true;
    this.lastKeys = keys;
    this.rss.push(rss);
    this.pss.push(pss);
    this.rssByComm.push(byComm);
  }

  result(): TreeUsage {
    const byComm: Record<string, number> = {};
    let ticks = 0;
    for (const [key, { ticks: lastTicks, comm }] of this.last) {
      // A process born inside the window used all of its CPU inside it.
      const used = lastTicks - (this.atStart.get(key) ?? 0);
      ticks += used;
      byComm[comm] = (byComm[comm] ?? 0) + used / this.ticksPerSecond;
    }
    let exited = 0;
    for (const key of this.atStart.keys()) if (!this.lastKeys.has(key)) exited += 1;
    const rssByComm: Record<string, number> = {};
    const comms = new Set(this.rssByComm.flatMap((m) => [...m.keys()]));
    for (const comm of comms) rssByComm[comm] = median(this.rssByComm.map((m) => m.get(comm) ?? 0));
    return {
      cpuSeconds: ticks / this.ticksPerSecond,
      cpuSecondsByComm: byComm,
      rssMedianBytesByComm: rssByComm,
      rssMedianBytes: median(this.rss),
      rssMaxBytes: this.rss.length > 0 ? Math.max(...this.rss) : Number.NaN,
      pssMedianBytes: median(this.pss),
      processCount: this.last.size,
      exitedCount: exited,
    };
  }
}
