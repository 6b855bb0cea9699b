import type { FastifyRequest } from 'fastify';
import { assertCan } from '../auth/permissions.js';
import type { CameraManager } from '../camera/camera-manager.js';
import type { LiveMessage } from '../contract/live.js';
import { VigilError } from '../errors/catalogue.js';
import { TalkSession } from '../live/talk-session.js';
import type { Clock } from '../time/clock.js';
import { auditMedia, type MediaAudit } from './audit-media.js';
import { principalOf } from './auth-hooks.js';

export interface LiveTalkDeps {
  cameras: Pick<CameraManager, 'get'>;
  clock: Clock;
  audit: MediaAudit;
  ffmpegPath: string;
}

/** What a live WebRTC socket does with talk.start / talk.stop and the microphone's packets. */
export interface TalkControl {
  start(): void;
  stop(reason: string): void;
  push(packet: Buffer): void;
}

function messageOf(error: unknown): { code: string; message: string } {
  if (error instanceof VigilError) return { code: error.code, message: error.message };
  return { code: 'TALK_UNAVAILABLE', message: (error as Error).message };
}

/**
 * Talking through the socket's camera. The permission is checked at each start against the camera
 * of the socket's URL (the one the route's access check saw), so a role or grant without `talk`
 * gets FORBIDDEN and no connection to the camera is made. Start and stop are audited.
 */
export function talkControl(
  deps: LiveTalkDeps,
  request: FastifyRequest<{ Params: { id: string } }>,
  send: (message: LiveMessage) => void,
): TalkControl {
  const cameraId = request.params.id;
  let session: TalkSession | null = null;
  let starting = false;
  let startedAtMs = 0;

  const stopped = (reason: string): void => {
    auditMedia(deps.audit, request, {
      action: 'talk.stop',
      cameraId,
      details: { durationMs: deps.clock.nowMs() - startedAtMs, reason },
    });
    send({ type: 'talk', state: 'stopped', codec: null, reason });
  };

  const begin = async (): Promise<void> => {
    assertCan(principalOf(request), 'talk', cameraId);
    const stream = deps.cameras.get(cameraId).config.streams.main;
    if (!stream.url.startsWith('rtsp://')) {
      throw new VigilError('TALK_UNAVAILABLE', 'talking needs a camera reached over rtsp://');
    }
    const target = {
      url: stream.url,
      ...(stream.user !== undefined ? { user: stream.user } : {}),
      ...(stream.password !== undefined ? { password: stream.password } : {}),
    };
    const started = await TalkSession.start({
      target,
      ffmpegPath: deps.ffmpegPath,
      onEnded: (error) => {
        session = null;
        stopped(
          error
            ? `the camera dropped the backchannel: ${error.message}`
            : 'the camera closed the backchannel',
        );
      },
    });
    session = started;
    startedAtMs = deps.clock.nowMs();
    auditMedia(deps.audit, request, { action: 'talk.start', cameraId, details: { codec: started.codec } });
    send({ type: 'talk', state: 'started', codec: started.codec, reason: null });
  };

  return {
    start: () => {
      if (session || starting) return;
      starting = true;
      begin()
        .catch((error: unknown) => send({ type: 'error', ...messageOf(error) }))
        .finally(() => (starting = false));
    },
    stop: (reason) => {
      const current = session;
      if (!current) return;
      session = null;
      current.stop();
      stopped(reason);
    },
    push: (packet) => session?.push(packet),
  };
}
