export { loadConfigFile, parseConfigText, parseConfigObject, demoConfig } from './load.js';
export type { LoadedConfig, ParseOptions } from './load.js';
export {
  validateCamera,
  retentionDaysFor,
  redactCamera,
  parseListen,
  detectConfigFor,
  tamperConfigFor,
  EDPB_CONTINUOUS_DAYS,
  EDPB_EVENTS_DAYS,
  privacyConfigFor,
  sceneConfigFor,
  sceneIdsOf,
  EMPTY_SCENE,
  systemTimeZone,
} from './normalise.js';
export { polygonProblem } from './polygon.js';
export { normaliseRule, ruleProblems, type SceneIds } from './rules.js';
export type {
  VigilConfig,
  CameraConfig,
  CameraOnvifConfig,
  StreamConfig,
  ServerConfig,
  StorageConfig,
  RecordingConfig,
  RetentionConfig,
  ApprovalsConfig,
  SiteConfig,
  AnalyticsConfig,
  IngestConfig,
  DetectConfig,
  TamperConfig,
  LabelFilterConfig,
  NormalisedPolygonConfig,
  PrivacyConfig,
  PrivacyMaskConfig,
  SceneConfig,
  SceneReferencePoint,
  MqttConfig,
  AudioMode,
  RtspTransport,
  CameraValidation,
} from './normalise.js';
export type { NotifyConfig, WebhookConfig } from './notify.js';
export { formatProblems } from './problems.js';
export type { ConfigProblem } from './problems.js';
export {
  VigilConfigSchema,
  CameraSchema,
  StreamSchema,
  CAMERA_ID_PATTERN,
  DEFAULT_DETECT_LABELS,
  DETECT_LABELS,
} from './schema.js';
export type {
  VigilConfigInput,
  CameraConfigInput,
  StreamConfigInput,
  DetectConfigInput,
  MqttConfigInput,
} from './schema.js';
export { parseSize, formatBytes } from './size.js';
export { redactUrl, withCredentials, parseStreamUrl, parseTestPatternUrl, STREAM_SCHEMES } from './url.js';
export type { StreamScheme, TestPattern } from './url.js';
export type { Env } from './env.js';
