import type { OnvifProfileView, ProposedStream } from '../contract/onvif.js';

function pixels(profile: OnvifProfileView): number {
  return (profile.width ?? 0) * (profile.height ?? 0);
}

/**
 * The camera to propose from a device's profiles: main = the highest resolution, sub = the
 * lowest (none when there is one profile, or all have the same size). Profiles without an RTSP
 * address are left out. The credentials are the ONVIF ones: cameras use one account for both.
 */
export function proposeStreams(
  profiles: readonly OnvifProfileView[],
  user: string,
): { main: ProposedStream; sub: ProposedStream | null } | null {
  const usable = profiles.filter((p) => p.streamUri !== null && /^rtsps?:\/\//i.test(p.streamUri));
  if (usable.length === 0) return null;
  const sorted = [...usable].sort((a, b) => pixels(b) - pixels(a));
  const main = sorted[0]!;
  const sub = sorted[sorted.length - 1]!;
  const stream = (p: OnvifProfileView): ProposedStream => ({
    profile: p.token,
    url: p.streamUri ?? '',
    user,
    width: p.width,
    height: p.height,
  });
  return { main: stream(main), sub: pixels(sub) < pixels(main) ? stream(sub) : null };
}
