/**
 * What privacy masks cost: CPU of the live transcoder per stream (emulator cameras, real footage),
 * the masked stream's bitrate next to the camera's, and the time to mask one stored GOP (an HLS
 * part) and a 10 s export. Results are printed; docs/design/privacy-video.md keeps a run.
 *
 *   npx tsx bench/masked-video/run.ts [--duration 30] [--warmup 5] [--viewers 2]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import type { Principal } from '../../src/auth/permissions.js';
import type { MaskPolygon } from '../../src/privacy/mask-overlay.js';
import type { MaskPolicy } from '../../src/privacy/mask-policy.js';
import { startCameras } from '../../test/helpers/cameras.js';
import { startTestVigil, tempDir, waitFor } from '../../test/helpers/vigil.js';
import { formatMachine, machineInfo } from '../lib/machine.js';
import { clockTicksPerSecond, machineTicks, readStat } from '../lib/proc.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    viewers: { type: 'string', default: '2' },
  },
});
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const viewerCount = Number(values.viewers);

/** A doorway and a strip of a neighbour's garden: about a fifth of the picture. */
const MASKS: MaskPolygon[] = [
  [
    [0.05, 0.1],
    [0.3, 0.1],
    [0.3, 0.6],
    [0.05, 0.6],
  ],
  [
    [0.6, 0.8],
    [1, 0.7],
    [1, 0.95],
    [0.6, 0.95],
  ],
];
const policy: MaskPolicy = {
  masksFor: (principal: Principal) => (principal.role === 'admin' ? [] : MASKS),
  permanentMasks: () => MASKS,
  onChange: () => () => undefined,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ticksPerS = clockTicksPerSecond();

const cameras = await startCameras({ count: 1 });
const vigil = await startTestVigil(
  `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 10000 }
cameras:
  - id: cam
    streams:
      main: { url: "${cameras.urls(1).main}" }
      sub: { url: "${cameras.urls(1).sub}" }
`,
  tempDir('vigil-bench-masked-'),
  { vigil: { maskPolicy: policy } },
);
try {
  console.log(formatMachine(machineInfo('ffmpeg')));
  console.log(
    `cameras: ${cameras.kind}; ${viewerCount} masked viewers per stream; ${durationS} s measured\n`,
  );
  const user = await vigil.auth.store.createUser({
    name: 'guard',
    role: 'operator',
    password: 'orchid tundra meter 51',
  });
  const token = (await vigil.auth.store.createToken(user.id, { label: 'bench' })).token;
  const rows: string[] = [];
  for (const stream of ['sub', 'main']) {
    const runtime = vigil.cameras.stream('cam', stream);
    await waitFor(`${stream} online`, () => runtime.supervisor.status().state === 'online', 30_000);
    let receivedBytes = 0;
    const sockets = Array.from({ length: viewerCount }, () => {
      const socket = new WebSocket(
        `${vigil.url.replace(/^http/, 'ws')}/api/cameras/cam/live?stream=${stream}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      socket.on('message', (data: Buffer, binary: boolean) => {
        if (binary) receivedBytes += data.length;
      });
      return socket;
    });
    await waitFor('a masked frame', () => receivedBytes > 0, 30_000);
    await sleep(warmupS * 1000);
    const transcoders = vigil.maskedVideo.transcoders().filter((t) => t.stream === stream);
    const pid = vigil.maskedVideo.live.transcoderFor('cam', stream, transcoders[0]!.maskKey)!.pid!;
    const before = readStat(pid)!;
    const machineBefore = machineTicks();
    const bytesBefore = receivedBytes;
    await sleep(durationS * 1000);
    const after = readStat(pid)!;
    const machineAfter = machineTicks();
    const cpuPercent = ((after.cpuTicks - before.cpuTicks) / ticksPerS / durationS) * 100;
    const busy =
      ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100;
    const status = runtime.supervisor.status();
    const maskedKbps = ((receivedBytes - bytesBefore) * 8) / viewerCount / durationS / 1000;
    rows.push(
      `| ${stream} | ${status.width}x${status.height} | ${status.fps ?? '?'} | ${transcoders.length} | ` +
        `${cpuPercent.toFixed(1)} % | ${status.bitrateKbps ?? '?'} | ${maskedKbps.toFixed(0)} | ${busy.toFixed(0)} % |`,
    );
    for (const socket of sockets) socket.close();
    await waitFor('the transcoder to stop', () => vigil.maskedVideo.transcoders().length === 0, 20_000);
  }
  console.log('Live transcoder (one per stream and mask set, shared by its viewers):\n');
  console.log(
    '| stream | size | fps | transcoders | ffmpeg CPU (one core = 100 %) | camera kbit/s | masked kbit/s | machine busy |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);

  // Stored video: one GOP part, masked on request (a cache miss), and a 10 s export.
  console.log('\nRecorded video, masked on request (cache misses):\n');
  console.log('| stream | HLS part (one GOP) | 10 s export |');
  console.log('|---|---|---|');
  await sleep(12_000);
  for (const stream of ['sub', 'main']) {
    const segments = await vigil.index.inRange('cam', stream, 0, Date.now());
    const fromMs = segments[0]!.start_time_ms;
    const headers = { authorization: `Bearer ${token}` };
    const playlist = await (
      await fetch(
        `${vigil.url}/api/cameras/cam/vod.m3u8?stream=${stream}&from=${fromMs}&to=${fromMs + 10_000}`,
        {
          headers,
        },
      )
    ).text();
    const parts = playlist.split('\n').filter((l) => l.startsWith('segments/'));
    const partMs: number[] = [];
    for (const part of parts.slice(1, 4)) {
      const started = performance.now();
      const res = await fetch(`${vigil.url}/api/cameras/cam/${part}`, { headers });
      await res.arrayBuffer();
      partMs.push(performance.now() - started);
    }
    const started = performance.now();
    const exported = await fetch(
      `${vigil.url}/api/cameras/cam/export.mp4?stream=${stream}&from=${fromMs}&to=${fromMs + 10_000}`,
      { headers },
    );
    await exported.arrayBuffer();
    const exportMs = performance.now() - started;
    const mean = partMs.reduce((a, b) => a + b, 0) / partMs.length;
    console.log(`| ${stream} | ${mean.toFixed(0)} ms | ${exportMs.toFixed(0)} ms |`);
  }
  console.log(
    `\nload average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await vigil.close();
  await cameras.stop();
}
