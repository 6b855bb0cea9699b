// CenterNetDetector and OrtCenterNetDetector are not re-exported: importing them loads tfjs or
// onnxruntime. Import them where the model runs (the worker); use WorkerDetector everywhere else.
export type { CenterNetOptions } from './centernet-io.js';
export { COCO_LABELS, cocoLabel } from './coco-labels.js';
export {
  DEFAULT_DETECTION_FILTERS,
  filterDetections,
  filterFor,
  type DetectionFilters,
  type LabelFilter,
} from './filters.js';
export { cropResizeRgb, mapBoxFromRegion } from './image.js';
export { DEFAULT_NMS_OPTIONS, nmsPerLabel, type NmsOptions } from './nms.js';
export {
  DEFAULT_REGION_OPTIONS,
  detectionsToFrame,
  fullFrameRegion,
  selectRegions,
  type Region,
  type RegionOptions,
} from './region-selection.js';
export type { Detection, Detector, DetectorInput, RgbImage } from './types.js';
export { WorkerDetector } from './worker-detector.js';
