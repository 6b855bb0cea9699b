/** What a benchmark ran on, printed above its results: numbers mean little without it. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { release, totalmem } from 'node:os';

export interface MachineInfo {
  nproc: string;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  ffmpeg: string;
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (err) {
    return `unknown (${(err as Error).message.split('\n')[0]})`;
  }
}

export function machineInfo(ffmpegPath: string): MachineInfo {
  let cpuModel = 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) cpuModel = match[1].trim();
  } catch {
    // Not Linux, or /proc hidden: the rest of the header still says something.
  }
  return {
    // nproc, not os.cpus(): it honours CPU affinity and cgroup limits, as the processes see them.
    nproc: run('nproc', []),
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    ffmpeg: run(ffmpegPath, ['-hide_banner', '-version']).split('\n')[0] ?? 'unknown',
  };
}

export function formatMachine(m: MachineInfo): string {
  return [
    `machine: nproc ${m.nproc}, ${m.cpuModel}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}`,
    `node ${m.node}; ${m.ffmpeg}`,
  ].join('\n');
}
