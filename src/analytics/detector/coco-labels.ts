import { COCO_LABELS } from '../../config/coco-labels.js';

// The list itself belongs to the config, which validates labels against it; the detector owns
// the mapping from its model's class indices.
export { COCO_LABELS };

/** Label of a class index, or null for an index outside the table (a model that is not COCO-80). */
export function cocoLabel(classIndex: number): string | null {
  return Number.isInteger(classIndex) ? (COCO_LABELS[classIndex] ?? null) : null;
}
