import { spawn, type ChildProcess } from 'node:child_process';
import { FFMPEG } from './media-tools.js';

/**
 * A live HTTP camera stream as some cameras send it: the footage's H.264 video, looped, with a
 * 440 Hz tone as G.711 A-law audio, in Matroska on stdout. The caller pipes it to the response
 * and kills it when the client goes.
 */
export function spawnAlawStream(videoPath: string): ChildProcess {
  return spawn(FFMPEG, [
    ...['-v', 'error', '-re', '-stream_loop', '-1', '-i', videoPath],
    ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000'],
    ...['-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy', '-c:a', 'pcm_alaw', '-f', 'matroska', 'pipe:1'],
  ]);
}
