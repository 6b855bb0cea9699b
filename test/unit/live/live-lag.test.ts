import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CATCH_UP_EXCESS_S,
  DEFAULT_FRAME_STEP_S,
  LIVE_JITTER_MARGIN_S,
  liveTargetLagS,
  nextCatchingUp,
  nextFrameStepS,
} from '../../../web/src/live/live-lag.js';

describe('live player lag', () => {
  it('aims one frame step plus the jitter margin behind the buffered end', () => {
    assert.equal(liveTargetLagS(1 / 15), 1 / 15 + LIVE_JITTER_MARGIN_S);
    // A 5 fps substream: the newest frame alone is 200 ms of buffer; the target leaves room for it.
    assert.ok(liveTargetLagS(0.2) > 0.2);
  });

  it('learns the frame step from how far each append moves the buffered end', () => {
    assert.equal(nextFrameStepS(DEFAULT_FRAME_STEP_S, null, 10), DEFAULT_FRAME_STEP_S);
    assert.ok(Math.abs(nextFrameStepS(0.1, 10, 10 + 1 / 15) - 1 / 15) < 1e-9);
    // A gap in the stream, an append that did not move the end, or a jump back leave it alone.
    assert.equal(nextFrameStepS(0.1, 10, 13), 0.1);
    assert.equal(nextFrameStepS(0.1, 10, 10), 0.1);
    assert.equal(nextFrameStepS(0.1, 10, 2), 0.1);
  });

  it('catches up from above the threshold all the way down to the target, not just below the threshold', () => {
    const target = 0.17;
    assert.equal(
      nextCatchingUp(target + 0.05, target, false),
      false,
      'a little behind: no need to hurry yet',
    );
    assert.equal(nextCatchingUp(target + CATCH_UP_EXCESS_S + 0.01, target, false), true);
    // Between the target and the threshold the player keeps doing what it did.
    assert.equal(nextCatchingUp(target + 0.05, target, true), true);
    assert.equal(nextCatchingUp(target, target, true), false);
    assert.equal(nextCatchingUp(target - 0.05, target, true), false);
  });
});
