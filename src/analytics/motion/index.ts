export { type MotionBox } from './components.js';
export { LumaDownscaler, lumaFromRgb, type LumaPlane } from './luma.js';
export {
  DEFAULT_MOTION_OPTIONS,
  MotionDetector,
  type MotionOptions,
  type MotionResult,
} from './motion-detector.js';
