/**
 * How far behind the newest received frame the live player plays. Pure, so it can be tested
 * without a browser.
 *
 * The lag is `buffered.end − currentTime`: it always includes the newest frame's own duration
 * (one frame step), so the target is one step plus a margin for network jitter. Every 100 ms of
 * margin is 100 ms of latency; less than a frame's arrival jitter and the video stalls.
 */

/** Jitter the player rides out without stalling, on top of one frame step. */
export const LIVE_JITTER_MARGIN_S = 0.1;
/**
 * More than this above the target, play faster until back at the target. Without the way back
 * down to the target, a player that fell a little behind (the decoder warming up after the
 * join, one late frame) would stay behind for good.
 */
export const CATCH_UP_EXCESS_S = 0.1;
/** Fast enough to win back 100 ms in a second, slow enough to go unseen. */
export const CATCH_UP_RATE = 1.1;
/** The step assumed before two frames have arrived: 10 fps. */
export const DEFAULT_FRAME_STEP_S = 0.1;
/** A longer step between appends is a gap in the stream, not the frame rate. */
const MAX_FRAME_STEP_S = 0.5;

export function liveTargetLagS(frameStepS: number): number {
  return frameStepS + LIVE_JITTER_MARGIN_S;
}

/** The frame step seen when the buffered end moved from `previousEndS` to `endS`, else `stepS`. */
export function nextFrameStepS(stepS: number, previousEndS: number | null, endS: number): number {
  if (previousEndS === null) return stepS;
  const deltaS = endS - previousEndS;
  return deltaS > 0 && deltaS <= MAX_FRAME_STEP_S ? deltaS : stepS;
}

/** Whether to play fast after this append: from above the threshold until back at the target. */
export function nextCatchingUp(lagS: number, targetLagS: number, catchingUp: boolean): boolean {
  if (lagS > targetLagS + CATCH_UP_EXCESS_S) return true;
  if (lagS <= targetLagS) return false;
  return catchingUp;
}
