import type { Firing } from './evaluator.js';

/** Names of a camera's zones and lines by id, for summaries in words. */
export interface SceneNames {
  zone(cameraId: string, zoneId: string): string | undefined;
  line(cameraId: string, lineId: string): string | undefined;
}

const HEALTH_WORDS: Record<string, string> = {
  'stream-lost': 'stream lost',
  'stream-restored': 'stream back',
  'tamper-covered': 'view covered',
  'tamper-moved': 'camera moved',
  'tamper-defocused': 'view out of focus',
  'tamper-cleared': 'view clear again',
};

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/** What happened, in words: "person crossed Path (A→B)", "4 people in Lobby for 30 s". */
export function summarise(firing: Firing, names: SceneNames): string {
  const { cameraId, object } = firing;
  const label = object?.label ?? 'object';
  const zone = firing.zoneId === undefined ? '' : (names.zone(cameraId, firing.zoneId) ?? firing.zoneId);
  const { condition } = firing;
  switch (firing.kind) {
    case 'zone-entered':
      return `${label} entered ${zone}`;
    case 'zone-left':
      return `${label} left ${zone}`;
    case 'intrusion':
    case 'loitering': {
      const minMs = 'minInsideMs' in condition ? condition.minInsideMs : 0;
      return `${label} ${firing.kind === 'loitering' ? 'loitering' : 'inside'} in ${zone} for ${seconds(minMs)}`;
    }
    case 'line-crossed': {
      const line = names.line(cameraId, firing.lineId ?? '') ?? firing.lineId ?? '';
      return `${label} crossed ${line} (${firing.direction === 'b-to-a' ? 'B→A' : 'A→B'})`;
    }
    case 'crowding': {
      const forMs = condition.type === 'crowding' ? condition.forMs : 0;
      const labels =
        condition.type === 'crowding' && condition.labels?.length ? condition.labels.join('/') : 'objects';
      return `${firing.count ?? 0} ${labels} in ${zone} for ${seconds(forMs)}`;
    }
    case 'camera-health': {
      const state = firing.health?.state ?? '';
      return `${HEALTH_WORDS[state] ?? state}: ${firing.health?.detail ?? ''}`;
    }
  }
}
