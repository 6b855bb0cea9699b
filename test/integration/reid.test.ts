/**
 * One event per person on real footage: one loop of vtest-main.mp4 (people walking a campus path,
 * crossing and passing behind a sign post) through detector → tracker → event manager, in
 * process (test/helpers/footage-events.ts). Person events must be within ±25 % of the people who
 * appeared (counted by hand: VTEST_PEOPLE), with re-identification on as it ships; the merge
 * before it runs on the same detections for comparison. 1.5–5 minutes, by the machine's load (398
 * detector inferences).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { replayVtest, VTEST_PEOPLE } from '../helpers/footage-events.js';
import { sharedFootageDir } from '../helpers/footage.js';

const FOOTAGE = sharedFootageDir();
const VTEST = FOOTAGE ? join(FOOTAGE, 'vtest-main.mp4') : '';
const SKIP = existsSync(VTEST)
  ? false
  : 'needs real people in the picture: ../shared/footage/vtest-main.mp4 is not here (generated footage has none)';

test(
  'one vtest loop raises about one person event per person who appeared (re-identification across track breaks)',
  { skip: SKIP, timeout: 900_000 },
  async () => {
    const result = await replayVtest(VTEST, [
      { name: 're-id off', coastMs: 2000, reid: false },
      { name: 're-id on', coastMs: 2000, reid: true },
    ]);
    const [off, on] = result.variants;
    const summary = result.variants
      .map(
        (v) =>
          `${v.variant.name}: ${v.events['person'] ?? 0} person events, ${v.eventIdSwitches} event id switches`,
      )
      .join('; ');
    assert.equal(result.frames, 398, 'one loop at 5 fps');
    const events = on!.events['person'] ?? 0;
    assert.ok(
      Math.abs(events - VTEST_PEOPLE) <= 0.25 * VTEST_PEOPLE,
      `person events ${events} not within ±25 % of ${VTEST_PEOPLE} people (${summary})`,
    );
    assert.ok(
      on!.eventIdSwitches < off!.eventIdSwitches,
      `re-id should leave fewer event id switches on the annotated frames (${summary})`,
    );
    assert.ok(on!.covered > 0.7 * on!.identityFrames, 'the tracker still covers most annotated people');
  },
);
