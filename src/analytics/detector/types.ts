import type { Box } from '../geometry.js';

/** A packed RGB image: `data` is height × width × 3 bytes (HWC, R then G then B), no row padding. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** What a detector looks at: usually a square crop already resized to the detector's `inputSize`. */
export type DetectorInput = RgbImage;

/** One object found in one image: a box in that image's pixels, a COCO label, a score 0..1. */
export interface Detection {
  box: Box;
  label: string;
  score: number;
}

/**
 * An object detector. Implementations only ever report object classes (person, car, dog…): never
 * attributes of a person (see "Refused by design" in docs/design/analytics.md).
 */
export interface Detector {
  /** For logs and the health page, e.g. "centernet (mobilenetv3, tfjs wasm)". */
  readonly name: string;
  /** Side of the square input the model runs at; inputs of other sizes are letterboxed to it. */
  readonly inputSize: number;
  /**
   * Detections per input, in the same order, boxes in each input's own pixels. Inputs are run one
   * after another; the promise settles when all are done.
   */
  detect(inputs: readonly DetectorInput[]): Promise<Detection[][]>;
  /** Free the model (and the worker thread, if any). The detector cannot be used afterwards. */
  close(): Promise<void>;
}
