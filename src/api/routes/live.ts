import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import type { LiveViewer } from '../../live/live-feed.js';
import { parseTimeParam } from '../../time/parse.js';
import { assertCan } from '../../auth/permissions.js';
import { auditMedia } from '../audit-media.js';
import { principalOf } from '../auth-hooks.js';
import type { CameraManager } from '../../camera/camera-manager.js';
import type { PlaybackService } from '../../recording/playback.js';
import type { Clock } from '../../time/clock.js';
import type { MediaAudit } from '../audit-media.js';
import type { MaskedVideo } from '../../privacy/masked-video/index.js';
import { LIVE_CLOSE_CHANGED, LIVE_CLOSE_REMOVED } from '../../contract/close-codes.js';
import type { LiveMessage } from '../../contract/live.js';
import { parseSignalling } from '../../live/live-signalling.js';
import { WebRtcLiveSession } from '../../live/webrtc-session.js';
import { talkControl } from '../live-talk.js';
import type { StreamRuntime } from '../../camera/stream-runtime.js';
import type { FastifyRequest } from 'fastify';
import {
  cameraIdParams,
  liveQuery,
  rangeQuery,
  type CameraIdParams,
  type LiveQuery,
  type RangeQuery,
} from '../schemas.js';
import { errors, media, noBody, type Tag } from '../openapi.js';

const tags: Tag[] = ['live'];

/** How far back the live HLS fallback starts when the player gives no `from`. */
const LIVE_HLS_BACK_MS = 10_000;
/** How far back `from` may reach with live.view alone; beyond it is playback (playback.view). */
export const LIVE_HLS_MAX_BACK_MS = 60_000;

const LIVE_CLOSE_CODES = { changed: LIVE_CLOSE_CHANGED, removed: LIVE_CLOSE_REMOVED } as const;

function socketViewer(socket: WebSocket): LiveViewer {
  return {
    sendText: (message) => socket.send(message),
    sendBinary: (bytes) => socket.send(bytes, { binary: true }),
    bufferedBytes: () => socket.bufferedAmount,
    // Application close codes (4000-4999): the player reconnects after 'changed' and stops after
    // 'removed' instead of retrying a camera that no longer exists.
    close: (reason) => socket.close(LIVE_CLOSE_CODES[reason], `camera ${reason}`),
  };
}

/** What the live routes use. */
export interface LiveRouteDeps {
  cameras: Pick<CameraManager, 'get' | 'stream'>;
  playback: Pick<PlaybackService, 'vodPlaylist'>;
  clock: Clock;
  audit: MediaAudit;
  /** Live viewers who must not see under a privacy mask get the masked transcoder's stream. */
  maskedVideo: Pick<MaskedVideo, 'live'>;
  /** server.webrtcStunServer; null: WebRTC offers host candidates only. */
  webrtcStunServer: string | null;
  /** The ffmpeg that transcodes the microphone for talking through a camera. */
  ffmpegPath: string;
}

/**
 * WebRTC live view on an open live socket: the socket carries the signalling, the video goes to
 * the peer connection. Watching starts once the peer is connected, through the same masked-video
 * decision as MSE, so a caller who must see masks gets the masked transcoder's stream here too.
 * Returns what stops it.
 */
function watchWebRtc(
  ctx: LiveRouteDeps,
  socket: WebSocket,
  request: FastifyRequest<{ Params: CameraIdParams }>,
  runtime: StreamRuntime,
): () => void {
  const send = (message: LiveMessage): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  let stopWatching: (() => void) | null = null;
  const talk = talkControl(ctx, request, send);
  const session = new WebRtcLiveSession({
    stunServer: ctx.webrtcStunServer,
    send,
    onConnected: (viewer) => {
      stopWatching = ctx.maskedVideo.live.watch(principalOf(request), request.params.id, runtime, viewer);
    },
    onEnded: (reason) => {
      if (reason) socket.close(LIVE_CLOSE_CODES[reason], `camera ${reason}`);
      else socket.close(1000, 'peer connection ended');
    },
    onAudioRtp: (packet) => talk.push(packet),
  });
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const parsed = isBinary
      ? ({ ok: false, code: 'REQUEST_INVALID', message: 'signalling is text frames' } as const)
      : parseSignalling(data.toString('utf8'), request.params.id);
    if (!parsed.ok) {
      send({ type: 'error', code: parsed.code, message: parsed.message });
      return;
    }
    const message = parsed.message;
    if (message.type === 'talk.start') return talk.start();
    if (message.type === 'talk.stop') return talk.stop('stopped by the player');
    const done =
      message.type === 'webrtc.answer'
        ? session.answer(message.sdp)
        : session.addCandidate(message.candidate);
    done.catch((error: unknown) =>
      send({ type: 'error', code: 'REQUEST_INVALID', message: `WebRTC: ${(error as Error).message}` }),
    );
  });
  session.start().catch((error: unknown) => {
    request.log.warn({ err: error }, 'WebRTC offer failed');
    socket.close(1011, 'WebRTC offer failed');
  });
  return () => {
    talk.stop('the live view closed');
    stopWatching?.();
    session.close();
  };
}

export function liveRoutes(ctx: LiveRouteDeps): FastifyPluginAsync {
  return async (app) => {
    /**
     * Live video as fragmented MP4 over a WebSocket, for Media Source Extensions: a JSON 'init'
     * text frame, the init segment, then fragments as they arrive from the camera; 'status' text
     * frames when the stream goes offline or comes back.
     */
    app.get<{ Params: CameraIdParams; Querystring: LiveQuery }>(
      '/api/cameras/:id/live',
      {
        websocket: true,
        schema: {
          operationId: 'watchLive',
          summary: 'Live video (WebSocket)',
          description:
            'A WebSocket: send this GET with `Upgrade: websocket`. Live fragmented MP4 for Media Source ' +
            'Extensions: a text frame `{"type":"status",…}`, then `{"type":"init",…}` followed by a binary ' +
            'frame with the init segment, then binary frames of one fragment each (the current GOP first). ' +
            'A new `init` pair follows every camera reconnection; `status` frames tell when the stream goes ' +
            'offline or comes back; `detections` frames carry analytics boxes (src/contract/live.ts). Close ' +
            'codes: 4000 the camera was edited (reconnect), 4404 it was deleted (stop), 4401 the access ' +
            'ended. With `via=webrtc` no video goes over the socket: the server sends `webrtc.offer` and ' +
            '`webrtc.candidate` frames and the player answers with `webrtc.answer` and `webrtc.candidate` ' +
            'frames naming the same camera. Without an Upgrade header the answer is 404 with an empty body.',
          tags,
          params: cameraIdParams,
          querystring: liveQuery,
          response: {
            101: noBody('Switching Protocols: the WebSocket is open.'),
            ...errors('CAMERA_NOT_FOUND', 'STREAM_NOT_FOUND'),
          },
        },
        config: { access: { permission: 'live.view', camera: { param: 'id' } } },
        // Before the upgrade, so an unknown camera or stream is a plain 404 with its error code.
        preValidation: async (request: { params: CameraIdParams; query: LiveQuery }) => {
          ctx.cameras.stream(request.params.id, request.query.stream ?? 'main');
        },
      },
      (socket, request) => {
        const runtime = ctx.cameras.stream(request.params.id, request.query.stream ?? 'main');
        const viewer = socketViewer(socket);
        const status = runtime.supervisor.status();
        socket.send(
          JSON.stringify({
            type: 'status',
            state: status.state,
            reason: status.state === 'online' ? null : (status.lastError?.message ?? null),
          }),
        );
        const stopWatching =
          request.query.via === 'webrtc'
            ? watchWebRtc(ctx, socket, request, runtime)
            : // Every viewer goes through the masked-video service: it decides copy stream or masked.
              ctx.maskedVideo.live.watch(principalOf(request), request.params.id, runtime, viewer);
        const stream = request.query.stream ?? 'main';
        const startedAtMs = ctx.clock.nowMs();
        auditMedia(ctx.audit, request, {
          action: 'live.start',
          cameraId: request.params.id,
          details: { stream, via: request.query.via ?? 'mse' },
        });
        socket.on('close', () => {
          stopWatching();
          auditMedia(ctx.audit, request, {
            action: 'live.stop',
            cameraId: request.params.id,
            details: { stream, durationMs: ctx.clock.nowMs() - startedAtMs },
          });
        });
        socket.on('error', () => stopWatching());
      },
    );

    /** Live HLS for browsers without MSE (iOS Safari): an EVENT playlist over the recording. */
    app.get<{ Params: CameraIdParams; Querystring: RangeQuery }>(
      '/api/cameras/:id/live.m3u8',
      {
        schema: {
          operationId: 'getLivePlaylist',
          summary: 'Live HLS playlist',
          description:
            'For browsers without MSE: an HLS EVENT playlist of the recording from `from` (default: 10 s ' +
            'ago), without an end; players reload it to follow the live edge. `from` further back than a ' +
            'minute also needs `playback.view`. `to` is ignored.',
          tags,
          params: cameraIdParams,
          querystring: rangeQuery,
          response: {
            200: media('application/vnd.apple.mpegurl', 'The playlist.', { binary: false }),
            ...errors('TIME_INVALID', 'CAMERA_NOT_FOUND', 'NO_RECORDINGS'),
          },
        },
        config: { access: { permission: 'live.view', camera: { param: 'id' } } },
      },
      async (request, reply) => {
        const camera = ctx.cameras.get(request.params.id);
        const stream = request.query.stream ?? 'main';
        const nowMs = ctx.clock.nowMs();
        const fromMs =
          request.query.from === undefined
            ? nowMs - LIVE_HLS_BACK_MS
            : parseTimeParam('from', request.query.from);
        // Live is the recent past only; further back is playback, which has its own permission.
        if (fromMs < nowMs - LIVE_HLS_MAX_BACK_MS) {
          assertCan(principalOf(request), 'playback.view', camera.config.id);
        }
        const playlist = await ctx.playback.vodPlaylist(camera.config.id, stream, fromMs, nowMs + 60_000, {
          live: true,
        });
        auditMedia(ctx.audit, request, {
          action: 'live.start',
          cameraId: camera.config.id,
          details: { stream, via: 'hls' },
          merge: `hls|${stream}`,
        });
        return reply.type('application/vnd.apple.mpegurl').header('cache-control', 'no-store').send(playlist);
      },
    );
  };
}
