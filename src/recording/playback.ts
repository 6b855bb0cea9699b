import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { VigilError } from '../errors/catalogue.js';
import {
  buildProgressiveMp4,
  gopParts,
  scanSegmentFile,
  type ExportPiece,
  type ScannedFile,
  type VirtualMp4,
} from '../media/mp4/index.js';
import type { SegmentIndex, SegmentRow } from '../storage/segment-index.js';
import { buildVodPlaylist, type PlaylistSegment } from './vod-playlist.js';
import type { LiveSegment } from './stream-recorder.js';

/** A segment as playback sees it: closed rows as stored, the open one with its live times. */
export interface PlayableSegment {
  id: number;
  cameraId: string;
  stream: string;
  timelineId: number;
  startTimeMs: number;
  endTimeMs: number;
  startTicks: number;
  timescale: number;
  path: string;
  open: boolean;
}

export interface PlaybackDeps {
  index: SegmentIndex;
  storageRoot: string;
  liveSegment(cameraId: string, stream: string): LiveSegment | null;
}

const SCAN_CACHE_SIZE = 512;

/** Wall time (ms) of a decode time within a segment. */
export function ticksToMs(
  segment: Pick<PlayableSegment, 'startTimeMs' | 'startTicks' | 'timescale'>,
  ticks: number,
) {
  return segment.startTimeMs + ((ticks - segment.startTicks) * 1000) / segment.timescale;
}

/** Decode time within a segment of a wall time (ms). */
export function msToTicks(
  segment: Pick<PlayableSegment, 'startTimeMs' | 'startTicks' | 'timescale'>,
  ms: number,
) {
  return segment.startTicks + Math.round(((ms - segment.startTimeMs) * segment.timescale) / 1000);
}

/** Serves stored video: recordings lists, HLS playlists and their byte ranges. */
export class PlaybackService {
  /** Closed segments never change, so their scans are cached by id (LRU by insertion order). */
  private readonly scans = new Map<number, ScannedFile>();

  constructor(private readonly deps: PlaybackDeps) {}

  async segments(cameraId: string, stream: string, fromMs: number, toMs: number): Promise<PlayableSegment[]> {
    const rows = await this.deps.index.inRange(cameraId, stream, fromMs, toMs);
    const live = this.deps.liveSegment(cameraId, stream);
    const out: PlayableSegment[] = [];
    for (const row of rows) {
      if (row.state === 'open') {
        // Only the recorder knows where its open segment is now; a stale open row is skipped.
        if (live?.id !== row.id || live.endTimeMs <= fromMs) continue;
        out.push({
          ...toPlayable(row),
          startTimeMs: live.startTimeMs,
          endTimeMs: live.endTimeMs,
          open: true,
        });
      } else {
        out.push(toPlayable(row));
      }
    }
    if (live && !rows.some((r) => r.id === live.id) && live.startTimeMs < toMs && live.endTimeMs > fromMs) {
      const row = await this.deps.index.get(live.id);
      if (row)
        out.push({
          ...toPlayable(row),
          startTimeMs: live.startTimeMs,
          endTimeMs: live.endTimeMs,
          open: true,
        });
    }
    return out.sort((a, b) => a.startTimeMs - b.startTimeMs);
  }

  async segment(cameraId: string, segmentId: number): Promise<PlayableSegment> {
    const row = await this.deps.index.get(segmentId);
    if (!row || row.camera_id !== cameraId) {
      throw new VigilError('SEGMENT_NOT_FOUND', `camera '${cameraId}' has no segment ${segmentId}`);
    }
    const live = this.deps.liveSegment(cameraId, row.stream);
    const playable = toPlayable(row);
    return live?.id === row.id ? { ...playable, ...live, open: true } : playable;
  }

  async scan(segment: PlayableSegment): Promise<ScannedFile> {
    const cached = this.scans.get(segment.id);
    if (cached) return cached;
    let scanned: ScannedFile;
    try {
      scanned = await scanSegmentFile(this.absolute(segment));
    } catch (err) {
      throw new VigilError(
        'MEDIA_CORRUPT',
        `segment ${segment.id} (${segment.path}) cannot be read: ${(err as Error).message}`,
      );
    }
    if (!segment.open) {
      this.scans.set(segment.id, scanned);
      if (this.scans.size > SCAN_CACHE_SIZE) this.scans.delete(this.scans.keys().next().value as number);
    }
    return scanned;
  }

  absolute(segment: Pick<PlayableSegment, 'path'>): string {
    return join(this.deps.storageRoot, segment.path);
  }

  /**
   * An HLS playlist from the keyframe at or before fromMs to toMs. A live playlist leaves out the
   * open segment's last part, which still grows: a part must never change once listed.
   */
  async vodPlaylist(
    cameraId: string,
    stream: string,
    fromMs: number,
    toMs: number,
    opts: { live?: boolean } = {},
  ): Promise<string> {
    const segments = await this.segments(cameraId, stream, fromMs, toMs);
    const playlist: PlaylistSegment[] = [];
    for (const segment of segments) {
      const scanned = await this.scan(segment);
      const parts = gopParts(scanned)
        .map((p) => ({
          ...p,
          startTimeMs: ticksToMs(segment, p.startTicks),
          durationMs: (p.durationTicks * 1000) / segment.timescale,
        }))
        .filter((p) => p.startTimeMs + p.durationMs > fromMs && p.startTimeMs < toMs && p.startsWithKeyframe);
      if (opts.live && segment.open) parts.pop();
      if (parts.length === 0) continue;
      playlist.push({
        timelineKey: `${segment.timelineId}`,
        initUri: `segments/${segment.id}/init.mp4`,
        parts: parts.map((p) => ({
          uri: `segments/${segment.id}/${p.offset}-${p.offset + p.length}.m4s`,
          startTimeMs: Math.round(p.startTimeMs),
          durationMs: p.durationMs,
        })),
      });
    }
    if (playlist.length === 0) {
      throw new VigilError(
        'NO_RECORDINGS',
        `camera '${cameraId}' has no ${stream} recording between ${new Date(fromMs).toISOString()} and ${new Date(toMs).toISOString()}`,
      );
    }
    return buildVodPlaylist(playlist, opts);
  }

  /**
   * One progressive MP4 of [fromMs, toMs) built from the stored segments without copying them:
   * its moov is computed from the fragments' sample tables, its mdat read from the files.
   */
  async exportMp4(
    cameraId: string,
    stream: string,
    fromMs: number,
    toMs: number,
  ): Promise<VirtualMp4 & { startTimeMs: number }> {
    const segments = await this.segments(cameraId, stream, fromMs, toMs);
    const pieces: ExportPiece[] = [];
    for (const segment of segments) {
      pieces.push({
        path: this.absolute(segment),
        scanned: await this.scan(segment),
        startTicks: msToTicks(segment, Math.max(fromMs, segment.startTimeMs)),
        endTicks: msToTicks(segment, Math.min(toMs, segment.endTimeMs)),
      });
    }
    if (pieces.length === 0) {
      throw new VigilError(
        'NO_RECORDINGS',
        `camera '${cameraId}' has no ${stream} recording between ${new Date(fromMs).toISOString()} and ${new Date(toMs).toISOString()}`,
      );
    }
    const mp4 = buildProgressiveMp4(pieces);
    // Wall time of the first frame shown: the keyframe at or before fromMs.
    const first = mp4.videoStart ? segments[mp4.videoStart.pieceIndex] : undefined;
    const startTimeMs = first && mp4.videoStart ? ticksToMs(first, mp4.videoStart.decodeTicks) : fromMs;
    return Object.assign(mp4, { startTimeMs });
  }

  /** The init segment of a segment found by segment(). */
  async initBytes(segment: PlayableSegment): Promise<Buffer> {
    return (await this.scan(segment)).init.bytes;
  }

  /**
   * A byte range of a segment found by segment(); only whole fragments inside the valid part may
   * be asked for.
   */
  async partStream(segment: PlayableSegment, startByte: number, endByte: number): Promise<Readable> {
    const scanned = await this.scan(segment);
    const valid =
      startByte >= scanned.initByteLength &&
      endByte <= scanned.validByteLength &&
      endByte > startByte &&
      scanned.fragments.some((f) => f.fileOffset === startByte);
    if (!valid)
      throw new VigilError('SEGMENT_NOT_FOUND', `segment ${segment.id} has no part ${startByte}-${endByte}`);
    return createReadStream(this.absolute(segment), { start: startByte, end: endByte - 1 });
  }
}

function toPlayable(row: SegmentRow): PlayableSegment {
  return {
    id: row.id,
    cameraId: row.camera_id,
    stream: row.stream,
    timelineId: row.timeline_id,
    startTimeMs: row.start_time_ms,
    endTimeMs: row.end_time_ms,
    startTicks: row.start_ticks,
    timescale: row.timescale,
    path: row.path,
    open: row.state === 'open',
  };
}
