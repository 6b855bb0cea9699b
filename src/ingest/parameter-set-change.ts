/**
 * A camera may change its H.264 parameter sets in-band: a user changes the resolution or profile,
 * or the camera switches to a night profile. The SDP (and so ffmpeg's init segment) still
 * describes the old ones, and a segment or a viewer that decodes the new frames with the old
 * init shows them at the wrong size or not at all. So the keyframe that brings new parameter
 * sets gets a new init segment, and starts a new timeline for everything downstream. Pure.
 */
import { parseH264Sps } from './rtsp/h264.js';
import {
  avcDecoderConfig,
  inBandParameterSets,
  sameParameterSets,
  withAvcParameterSets,
} from '../media/mp4/avc-config.js';
import type { Fragment, InitSegment } from '../media/mp4/index.js';

export interface ParameterSetChange {
  /** The new init segment: the old one with the video track's avcC and size replaced. */
  initBytes: Buffer;
  width: number;
  height: number;
}

/**
 * The new init segment when the fragment's first video sample is a keyframe carrying parameter
 * sets other than the init's; null otherwise (and for codecs other than H.264).
 */
export function parameterSetChange(
  init: InitSegment,
  fragmentBytes: Buffer,
  fragment: Fragment,
): ParameterSetChange | null {
  const video = init.tracks.find((t) => t.kind === 'video');
  if (video?.codec !== 'h264') return null;
  const first = fragment.tracks.find((t) => t.trackId === video.trackId)?.samples[0];
  if (!first?.isSync) return null;
  const config = avcDecoderConfig(video.stsd);
  if (!config) return null;
  const sample = fragmentBytes.subarray(
    first.fileOffset - fragment.fileOffset,
    first.fileOffset - fragment.fileOffset + first.size,
  );
  const inBand = inBandParameterSets(sample, config.nalLengthBytes);
  if (inBand.sps.length === 0) return null;
  const pps = inBand.pps.length > 0 ? inBand.pps : config.pps;
  if (sameParameterSets(inBand.sps, config.sps) && sameParameterSets(pps, config.pps)) return null;
  let size;
  try {
    size = parseH264Sps(inBand.sps[0]!);
  } catch {
    return null; // an SPS we cannot read is left to the decoder, as before
  }
  return {
    initBytes: withAvcParameterSets(
      init.bytes,
      video.trackId,
      { sps: inBand.sps, pps, nalLengthBytes: config.nalLengthBytes },
      size,
    ),
    width: size.width,
    height: size.height,
  };
}
