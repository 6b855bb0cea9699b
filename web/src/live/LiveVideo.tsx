import Hls from 'hls.js/light';
import { useEffect, useRef, useState } from 'react';
import type { StreamName } from '@contract/cameras';
import type { LiveDetectionsMessage, LiveTalkMessage } from '@contract/live';
import { api, liveHlsUrl, liveSocketUrl } from '../api';
import { MsePlayer, mediaSourceClass, type LiveState } from './mse-player';
import { WebRtcPlayer, webRtcAvailable } from './webrtc-player';

const DETECTIONS_TTL_MS = 1500;

/** How live video reaches the browser: 'auto' takes MSE where it exists, else WebRTC, else HLS. */
export type LiveTransport = 'auto' | 'webrtc';

/**
 * One camera's live video: fragmented MP4 over a WebSocket into MSE where the browser has it,
 * else WebRTC (iPhone Safari), else the live HLS playlist. `transport: 'webrtc'` asks for WebRTC.
 */
export function LiveVideo(props: {
  cameraId: string;
  stream: StreamName;
  onState: (state: LiveState) => void;
  /** Draw the boxes of what analytics is tracking over the video. */
  showDetections?: boolean;
  transport?: LiveTransport;
  /** Talk through the camera (WebRTC only): the microphone goes to the camera's speaker. */
  talking?: boolean;
  onTalk?: (message: LiveTalkMessage | { type: 'error'; code: string; message: string }) => void;
  /** Play the camera's sound; off by default (browsers refuse to autoplay sound anyway). */
  sound?: boolean;
}) {
  const { cameraId, stream, onState } = props;
  const transport = props.transport ?? 'auto';
  const talking = props.talking ?? false;
  const sound = props.sound ?? false;
  const playerRef = useRef<WebRtcPlayer | null>(null);
  const onTalkRef = useRef(props.onTalk);
  onTalkRef.current = props.onTalk;
  const videoRef = useRef<HTMLVideoElement>(null);
  const onStateRef = useRef(onState);
  onStateRef.current = onState;
  const [detections, setDetections] = useState<LiveDetectionsMessage | null>(null);
  const [videoSize, setVideoSize] = useState<{ width: number; height: number } | null>(null);

  // Boxes older than this are stale (the object left, or analytics paused): hide them.
  useEffect(() => {
    if (!detections) return undefined;
    const timer = window.setTimeout(() => setDetections(null), DETECTIONS_TTL_MS);
    return () => window.clearTimeout(timer);
  }, [detections]);

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return undefined;
    const report = (state: LiveState) => onStateRef.current(state);
    // Access ended: a signed-in request tells which. Signed out, it answers AUTH_REQUIRED and the
    // app goes to the sign-in page; still signed in (a camera grant was withdrawn), the tile says so.
    const onRevoked = () => void api.health().catch(() => undefined);
    if (webRtcAvailable() && (transport === 'webrtc' || !mediaSourceClass())) {
      const player = new WebRtcPlayer(video, {
        url: liveSocketUrl(cameraId, stream),
        cameraId,
        onState: report,
        onDetections: setDetections,
        onRevoked,
        onTalk: (message) => onTalkRef.current?.(message),
      });
      playerRef.current = player;
      const stop = player.start();
      return () => {
        playerRef.current = null;
        stop();
      };
    }
    if (mediaSourceClass()) {
      const player = new MsePlayer(video, liveSocketUrl(cameraId, stream), report, setDetections, onRevoked);
      player.start();
      return () => player.stop();
    }
    return playLiveHls(video, liveHlsUrl(cameraId, stream), report);
  }, [cameraId, stream, transport]);

  // React does not update the muted property after the first render: set it directly.
  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    video.muted = !sound;
    if (sound) void video.play().catch(() => undefined);
  }, [sound]);

  useEffect(() => {
    playerRef.current
      ?.setTalking(talking)
      .catch((error: unknown) =>
        onTalkRef.current?.({ type: 'error', code: 'MICROPHONE', message: (error as Error).message }),
      );
  }, [talking]);

  return (
    <>
      <video
        ref={videoRef}
        className="live-video"
        data-camera={cameraId}
        data-stream={stream}
        data-transport={transport}
        muted
        autoPlay
        playsInline
        disablePictureInPicture
        onLoadedMetadata={(e) =>
          setVideoSize({ width: e.currentTarget.videoWidth, height: e.currentTarget.videoHeight })
        }
      />
      {props.showDetections && detections && videoSize && (
        <DetectionBoxes message={detections} width={videoSize.width} height={videoSize.height} />
      )}
    </>
  );
}

/** An SVG with the video's own size and object-fit (contain), so boxes land on the picture. */
function DetectionBoxes(props: { message: LiveDetectionsMessage; width: number; height: number }) {
  const { width, height } = props;
  return (
    <svg
      className="detections"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="xMidYMid meet"
      aria-label={`${props.message.tracks.length} objects tracked`}
    >
      {props.message.tracks.map((t) => (
        <g key={t.trackId} data-label={t.label}>
          <rect
            x={t.box.x * width}
            y={t.box.y * height}
            width={t.box.width * width}
            height={t.box.height * height}
          />
          <text x={t.box.x * width + 4} y={t.box.y * height - 6}>
            {t.label} {Math.round(t.score * 100)}%
          </text>
        </g>
      ))}
    </svg>
  );
}

function playLiveHls(video: HTMLVideoElement, url: string, report: (state: LiveState) => void): () => void {
  report({ state: 'online', reason: null, unsupported: null });
  if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = url;
    void video.play().catch(() => undefined);
    return () => video.removeAttribute('src');
  }
  if (!Hls.isSupported()) {
    report({ state: 'online', reason: null, unsupported: 'this browser can play neither MSE nor HLS video' });
    return () => undefined;
  }
  const hls = new Hls({ liveSyncDurationCount: 1 });
  hls.loadSource(url);
  hls.attachMedia(video);
  return () => hls.destroy();
}

/** Tiles and focus view share the state display; kept here so both word it the same. */
export function useLiveState(): [LiveState, (state: LiveState) => void] {
  return useState<LiveState>({ state: 'connecting', reason: null, unsupported: null });
}
