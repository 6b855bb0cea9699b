export { LumaDownscaler, lumaFromRgb, type LumaPlane } from './luma.js';
export {
  DEFAULT_MOTION_OPTIONS,
  MotionDetector,
  type MotionBox,
  type MotionOptions,
  type MotionResult,
} from './motion-detector.js';
