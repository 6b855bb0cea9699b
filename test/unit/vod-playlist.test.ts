import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildVodPlaylist } from '../../src/recording/vod-playlist.js';

const T = Date.UTC(2026, 10, 26, 10, 0, 0);

test('one timeline: one map, program date-times, target duration rounded up', () => {
  const text = buildVodPlaylist([
    {
      timelineKey: '1',
      initUri: 'segments/7/init.mp4',
      parts: [
        { uri: 'segments/7/100-200.m4s', startTimeMs: T, durationMs: 2000 },
        { uri: 'segments/7/200-300.m4s', startTimeMs: T + 2000, durationMs: 2100 },
      ],
    },
  ]);
  assert.equal(
    text,
    [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:3',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MAP:URI="segments/7/init.mp4"',
      '#EXT-X-PROGRAM-DATE-TIME:2026-11-26T10:00:00.000Z',
      '#EXTINF:2.000,',
      'segments/7/100-200.m4s',
      '#EXT-X-PROGRAM-DATE-TIME:2026-11-26T10:00:02.000Z',
      '#EXTINF:2.100,',
      'segments/7/200-300.m4s',
      '#EXT-X-ENDLIST',
      '',
    ].join('\n'),
  );
});

test('a new timeline or a gap is a discontinuity with its own map', () => {
  const text = buildVodPlaylist([
    {
      timelineKey: '1',
      initUri: 'a/init.mp4',
      parts: [{ uri: 'a/1.m4s', startTimeMs: T, durationMs: 2000 }],
    },
    {
      timelineKey: '1',
      initUri: 'b/init.mp4',
      parts: [{ uri: 'b/1.m4s', startTimeMs: T + 2000, durationMs: 2000 }],
    },
    {
      timelineKey: '2',
      initUri: 'c/init.mp4',
      parts: [{ uri: 'c/1.m4s', startTimeMs: T + 9000, durationMs: 2000 }],
    },
  ]);
  assert.equal(text.match(/#EXT-X-DISCONTINUITY/g)?.length, 1);
  assert.equal(text.match(/#EXT-X-MAP/g)?.length, 3);
  assert.ok(text.indexOf('#EXT-X-DISCONTINUITY') < text.indexOf('c/init.mp4'));
});
