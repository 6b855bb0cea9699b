import { redactText } from '../config/url.js';

/**
 * Turns ffmpeg's stderr into the reason a user sees on the camera's status, in words that say
 * what to check. Pure: the supervisor feeds it stderr lines and the exit code.
 */

export type StreamErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'connection_refused'
  | 'unreachable'
  | 'timeout'
  | 'dns'
  | 'no_video'
  | 'unsupported_audio'
  | 'invalid_data'
  | 'stalled'
  | 'ended'
  | 'exited'
  /** The camera's address is outside security.cameraNetworks: Vigil did not connect. */
  | 'network_refused';

export interface StreamError {
  kind: StreamErrorKind;
  message: string;
}

const RULES: Array<{ pattern: RegExp; kind: StreamErrorKind; message: string }> = [
  {
    pattern: /401 Unauthorized/i,
    kind: 'unauthorized',
    message: "401 Unauthorized: check the camera's user name and password",
  },
  {
    pattern: /403 Forbidden/i,
    kind: 'forbidden',
    message: '403 Forbidden: the camera refuses this user; check its permissions on the camera',
  },
  {
    pattern: /404 (Not Found|Stream Not Found)/i,
    kind: 'not_found',
    message: "404 Not Found: the camera has no stream at this path; check the URL's path",
  },
  {
    pattern: /Connection refused/i,
    kind: 'connection_refused',
    message:
      'connection refused: nothing listens at this address and port; check the port and that RTSP is enabled',
  },
  {
    pattern: /No route to host|Network is unreachable|Host is unreachable/i,
    kind: 'unreachable',
    message: 'host unreachable: check the IP address and the network',
  },
  {
    pattern: /Connection timed out|Operation timed out|timed out/i,
    kind: 'timeout',
    message: 'connection timed out: the camera did not answer; check that it is powered and on the network',
  },
  {
    pattern: /Name or service not known|Temporary failure in name resolution|Failed to resolve hostname/i,
    kind: 'dns',
    message: "host name not found: check the camera's host name or use its IP address",
  },
  {
    pattern: /Could not find tag for codec .* in stream #1|codec not currently supported in container/i,
    kind: 'unsupported_audio',
    message: 'the audio codec cannot be stored in MP4 as is; retrying with audio transcoded to AAC',
  },
  {
    pattern: /does not contain any stream|Stream map '0:v:0' matches no streams|matches no streams/i,
    kind: 'no_video',
    message: 'no video track: the stream has no video; check the URL points at a video stream',
  },
  {
    pattern: /Invalid data found when processing input/i,
    kind: 'invalid_data',
    message: 'invalid data: the source does not send a stream ffmpeg understands; check the URL and protocol',
  },
];

/** The first recognised error among ffmpeg's stderr lines, else a generic one with the exit code. */
export function classifyFfmpegFailure(stderrLines: readonly string[], exitCode: number | null): StreamError {
  for (const rule of RULES) {
    if (stderrLines.some((line) => rule.pattern.test(line)))
      return { kind: rule.kind, message: rule.message };
  }
  if (exitCode === 0) {
    return { kind: 'ended', message: 'the camera ended the stream (it may be restarting): reconnecting' };
  }
  // Warnings say little about why ffmpeg stopped; the last error line does.
  const last = stderrLines.filter((l) => l.trim() !== '' && !l.includes('[warning]')).at(-1);
  return {
    kind: 'exited',
    // The line may quote the camera URL: never without its credentials.
    message: `ffmpeg exited (code ${exitCode ?? 'signal'})${last ? `: ${redactText(last.trim())}` : ''}`,
  };
}

/**
 * Removes credentials from anything ffmpeg prints (it echoes the input URL in some errors): user
 * info, and password-like query parameters such as ?pwd= (see redactText).
 */
export function scrubCredentials(text: string): string {
  return redactText(text);
}
