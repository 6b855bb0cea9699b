/**
 * MP4 parsing and building for recording: fragmented MP4 from ffmpeg in (boxes, init, fragments,
 * segment file scans), HLS parts and progressive MP4 exports out.
 */
export {
  BoxSplitter,
  MAX_STREAMED_BOX_BYTES,
  boxEnd,
  boxPayload,
  childBoxes,
  findChild,
  findChildren,
  findPath,
  listBoxes,
  readBoxHeader,
  type BoxHeader,
  type SplitBox,
} from './boxes.js';
export {
  parseInitSegment,
  type InitSegment,
  type TrackDefaults,
  type TrackHeaderFacts,
  type TrackInfo,
  type TrackKind,
} from './init.js';
export {
  fragmentTimeRange,
  parseFragment,
  type Fragment,
  type ParseFragmentOptions,
  type Sample,
  type TrackRun,
} from './fragment.js';
export { scanSegmentBuffer, scanSegmentFile, type ScannedFile } from './scan.js';
export { gopParts, type GopPart } from './hls.js';
export {
  buildProgressiveMp4,
  type ExportPiece,
  type ExportRange,
  type ExportTrackSummary,
  type ProgressiveOptions,
  type VirtualMp4,
} from './progressive.js';
