/**
 * The baseline: plain HLS of the same RTSP stream, as anyone would set it up with ffmpeg and
 * hls.js in its default live configuration, served by a tiny static HTTP server.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { spawnTracked, stopChild } from '../../test/helpers/children.js';
import { PAGE_GLOBAL } from './page.js';

export interface HlsBaseline {
  /** The page that plays it; its <video> is `video#v`. */
  pageUrl: string;
  stderrTail(): string;
  /** Paths asked for that did not exist since the last call: a player behind the playlist's window. */
  takeNotFound(): string[];
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.js': 'text/javascript',
  '.html': 'text/html; charset=utf-8',
};

function pageHtml(): string {
  // hls.js defaults on purpose (liveSyncDurationCount 3 and the rest): the baseline is what a
  // plain setup gives, not a tuned one. Segment arrivals go to the sampler for the breakdown.
  return `<!doctype html>
<meta charset="utf-8">
<title>HLS baseline</title>
<video id="v" muted autoplay playsinline style="width:640px;height:360px"></video>
<script src="/hls.min.js"></script>
<script>
  const video = document.getElementById('v');
  const hls = new Hls();
  hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
    const bench = window[${JSON.stringify(PAGE_GLOBAL)}];
    if (bench) bench.chunk({ arrivalMs: Date.now(), startS: data.frag.start, bytes: data.payload ? data.payload.byteLength : 0 });
  });
  hls.loadSource('/hls/index.m3u8');
  hls.attachMedia(video);
</script>
`;
}

export async function startHlsBaseline(options: {
  ffmpeg: string;
  rtspUrl: string;
  hlsJsPath: string;
}): Promise<HlsBaseline> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-hls-'));
  const ffmpeg = spawnTracked(
    options.ffmpeg,
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-rtsp_transport',
      'tcp',
      '-i',
      options.rtspUrl,
      '-c',
      'copy',
      '-f',
      'hls',
      '-hls_time',
      '1',
      '-hls_list_size',
      '6',
      '-hls_flags',
      'delete_segments+independent_segments',
      join(dir, 'index.m3u8'),
    ],
    { deathSignal: 'KILL' },
  );
  const notFound: string[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      let file: string;
      if (path === '/favicon.ico') {
        response.writeHead(204).end();
        return;
      }
      if (path === '/') {
        response.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' });
        response.end(pageHtml());
        return;
      } else if (path === '/hls.min.js') file = options.hlsJsPath;
      else if (path.startsWith('/hls/')) file = join(dir, basename(path));
      else file = '';
      const info = file ? await stat(file).catch(() => null) : null;
      if (!info?.isFile()) {
        notFound.push(path);
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': info.size,
        // The playlist changes every segment; a cached one would stall the player.
        'cache-control': 'no-store',
      });
      createReadStream(file).pipe(response);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('HLS server has no TCP address');
  return {
    pageUrl: `http://127.0.0.1:${address.port}/`,
    stderrTail: () => ffmpeg.stderrTail(),
    takeNotFound: () => notFound.splice(0),
    async stop() {
      await stopChild(ffmpeg, 2000);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
