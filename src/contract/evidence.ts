/** Evidence locks as the API shows them (GET /api/evidence, POST /api/evidence). */

export interface EvidenceLockView {
  id: number;
  cameraId: string;
  /** The locked event; null for a plain time range. */
  eventId: number | null;
  startTimeMs: number;
  endTimeMs: number;
  reason: string;
  /** The lock lapses then; null: until unlocked. */
  expiresAtMs: number | null;
  createdBy: string;
  createdAtMs: number;
  unlockedBy: string | null;
  unlockedAtMs: number | null;
  /** 'locked' protects; 'expired' and 'unlocked' no longer do. */
  state: 'locked' | 'expired' | 'unlocked';
}

/** POST /api/evidence: an event, or a camera's time range. */
export type NewEvidenceLockBody =
  | { eventId: number; reason: string; expiresAtMs?: number | null }
  | { cameraId: string; startTimeMs: number; endTimeMs: number; reason: string; expiresAtMs?: number | null };

export interface EvidenceLockList {
  locks: EvidenceLockView[];
}
