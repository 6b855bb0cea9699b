import type { Principal } from '../auth/permissions.js';
import type { MaskPolygon } from './mask-overlay.js';

/**
 * Which privacy masks a caller must not see through. Every route that sends pictures or video asks
 * this before sending; the browser never receives the pixels under a mask.
 */
export interface MaskPolicy {
  /** Polygons to black out for this caller on this camera now; empty when nothing is hidden from them. */
  masksFor(principal: Principal, cameraId: string): readonly MaskPolygon[];
  /**
   * Polygons to black out in a file that leaves the system (an export, an event clip); absent:
   * the same as masksFor (MaskService.exportMasksFor says when they differ).
   */
  exportMasksFor?(principal: Principal, cameraId: string): readonly MaskPolygon[];
  /** Permanent masks only: what recording (with "mask at recording") and analytics leave out. */
  permanentMasks(cameraId: string): readonly MaskPolygon[];
  /** Called whenever a camera's masks or lifts change, so running transcoders restart with the new set. */
  onChange(listener: (cameraId: string) => void): () => void;
}
