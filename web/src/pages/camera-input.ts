import type { CameraInput, CameraView, StreamInput } from '@contract/cameras';

/**
 * The camera as a PUT body, as it stands: a PUT replaces the whole camera, so an editor of one
 * part (masks, zones) sends the rest back unchanged. Passwords are kept by leaving them out.
 */
export function cameraInputOf(camera: CameraView): CameraInput {
  const streams = Object.fromEntries(
    Object.entries(camera.streams).map(([name, s]): [string, StreamInput] => [
      name,
      {
        url: s.url,
        ...(s.user ? { user: s.user } : {}),
        ...(s.transport === 'udp' ? { transport: 'udp' as const } : {}),
      },
    ]),
  ) as CameraInput['streams'];
  return {
    id: camera.id,
    name: camera.name,
    enabled: camera.enabled,
    streams,
    privacy: camera.privacy,
    scene: camera.scene,
  };
}
