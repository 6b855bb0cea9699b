export { assignMinCost } from './hungarian.js';
export { BoxKalmanFilter } from './kalman.js';
export {
  DEFAULT_TRACKER_OPTIONS,
  Tracker,
  type PathPoint,
  type Track,
  type TrackerDetection,
  type TrackerOptions,
  type TrackerUpdate,
  type TrackState,
} from './tracker.js';
