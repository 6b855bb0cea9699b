export {
  DEFAULT_TAMPER_OPTIONS,
  TamperDetector,
  type TamperChange,
  type TamperKind,
  type TamperMeasure,
  type TamperOptions,
} from './tamper-detector.js';
