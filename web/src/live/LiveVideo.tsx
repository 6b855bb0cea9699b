import Hls from 'hls.js/light';
import { useEffect, useRef, useState } from 'react';
import type { StreamName } from '../../../src/api/types';
import { liveHlsUrl, liveSocketUrl } from '../api';
import { MsePlayer, mediaSourceClass, type LiveState } from './mse-player';

/**
 * One camera's live video: fragmented MP4 over a WebSocket into MSE where the browser has it,
 * else the live HLS playlist (natively on iOS Safari, through hls.js elsewhere).
 */
export function LiveVideo(props: {
  cameraId: string;
  stream: StreamName;
  onState: (state: LiveState) => void;
}) {
  const { cameraId, stream, onState } = props;
  const videoRef = useRef<HTMLVideoElement>(null);
  const onStateRef = useRef(onState);
  onStateRef.current = onState;

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return undefined;
    const report = (state: LiveState) => onStateRef.current(state);
    if (mediaSourceClass()) {
      const player = new MsePlayer(video, liveSocketUrl(cameraId, stream), report);
      player.start();
      return () => player.stop();
    }
    return playLiveHls(video, liveHlsUrl(cameraId, stream), report);
  }, [cameraId, stream]);

  return (
    <video
      ref={videoRef}
      className="live-video"
      data-camera={cameraId}
      data-stream={stream}
      muted
      autoPlay
      playsInline
      disablePictureInPicture
    />
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
