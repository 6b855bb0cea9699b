/**
 * Where segment files live, relative to storage.path: one folder per camera, stream and UTC day,
 * so a person can find a day's video with a file manager and `du` answers "how much per camera".
 */
export function segmentPath(cameraId: string, stream: string, startTimeMs: number): string {
  const day = new Date(startTimeMs).toISOString().slice(0, 10);
  return `recordings/${cameraId}/${stream}/${day}/${startTimeMs}.mp4`;
}

export const RECORDINGS_DIR = 'recordings';
