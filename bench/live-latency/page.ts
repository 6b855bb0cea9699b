/**
 * What runs inside the measured pages: a sampler that reads the timecode of every frame the
 * <video> presents, and (for Vigil) a tap on the WebSocket that notes when each fragment arrives.
 * It is injected as source text before the page's own scripts run, so the player under test is
 * the page's own, unchanged.
 */
import { blockCenter, decodeTimecode, LAYOUT, type TimecodeLayout } from './timecode.js';

export interface PageSample {
  /** Wall-clock ms at which the browser expects the frame to be on screen. */
  displayMs: number;
  /** How far ahead of the sampler reading the frame that display time was, ms. */
  leadMs: number;
  /** The time written into the frame, or null when it could not be read. */
  captureMs: number | null;
  failure: 'unclear' | 'marker' | 'crc' | null;
  /** The frame's presentation time in the media timeline, s. */
  mediaTime: number;
  presentedFrames: number;
  /** Media buffered ahead of the playhead when the frame was shown, s. */
  aheadS: number | null;
  playbackRate: number;
}

/** A piece of media arriving in the page: a WebSocket fragment (Vigil) or an HLS segment. */
export interface PageChunk {
  arrivalMs: number;
  /** Media time of its first frame, s. */
  startS: number;
  bytes: number;
}

export interface PageHarvest {
  samples: PageSample[];
  chunks: PageChunk[];
  notes: string[];
}

export interface SamplerConfig {
  selector: string;
  layout: TimecodeLayout;
  tapWebSocket: boolean;
}

/** The global through which the benchmark collects what the page measured. */
export const PAGE_GLOBAL = '__liveLatencyBench';

interface BenchGlobal {
  take(): PageHarvest;
  chunk(chunk: PageChunk): void;
}

type DecodeFn = typeof decodeTimecode;
type CenterFn = typeof blockCenter;

/** Runs in the page. Self-contained: everything it uses comes in through its parameters. */
function installSampler(config: SamplerConfig, globalName: string, center: CenterFn, decode: DecodeFn): void {
  let samples: PageSample[] = [];
  let chunks: PageChunk[] = [];
  let notes: string[] = [];
  const target = window as unknown as Record<string, BenchGlobal>;
  target[globalName] = {
    take() {
      const out = { samples, chunks, notes };
      samples = [];
      chunks = [];
      notes = [];
      return out;
    },
    chunk(chunk) {
      chunks.push(chunk);
    },
  };

  if (config.tapWebSocket) {
    // Fragment arrival times split the latency into "before the browser" and "inside it".
    const NativeWebSocket = window.WebSocket;
    let timescale = 0;
    const walk = (
      view: DataView,
      start: number,
      end: number,
      visit: (type: string, s: number, e: number) => void,
    ) => {
      let at = start;
      while (at + 8 <= end) {
        let size = view.getUint32(at);
        let header = 8;
        if (size === 1) {
          size = Number(view.getBigUint64(at + 8));
          header = 16;
        } else if (size === 0) size = end - at;
        if (size < header || at + size > end) return;
        const type = String.fromCharCode(
          view.getUint8(at + 4),
          view.getUint8(at + 5),
          view.getUint8(at + 6),
          view.getUint8(at + 7),
        );
        visit(type, at + header, at + size);
        at += size;
      }
    };
    const onBinary = (data: ArrayBuffer, arrivalMs: number) => {
      const view = new DataView(data);
      walk(view, 0, data.byteLength, (type, s, e) => {
        if (type === 'moov') {
          walk(view, s, e, (t2, s2, e2) => {
            if (t2 !== 'trak') return;
            let handler = '';
            let scale = 0;
            walk(view, s2, e2, (t3, s3, e3) => {
              if (t3 !== 'mdia') return;
              walk(view, s3, e3, (t4, s4) => {
                if (t4 === 'hdlr') {
                  handler = String.fromCharCode(
                    view.getUint8(s4 + 8),
                    view.getUint8(s4 + 9),
                    view.getUint8(s4 + 10),
                    view.getUint8(s4 + 11),
                  );
                }
                if (t4 === 'mdhd') scale = view.getUint32(s4 + (view.getUint8(s4) === 1 ? 20 : 12));
              });
            });
            if (handler === 'vide' && scale > 0) timescale = scale;
          });
        }
        if (type === 'moof' && timescale > 0) {
          walk(view, s, e, (t2, s2, e2) => {
            if (t2 !== 'traf') return;
            walk(view, s2, e2, (t3, s3) => {
              if (t3 !== 'tfdt') return;
              const decodeTime =
                view.getUint8(s3) === 1 ? Number(view.getBigUint64(s3 + 4)) : view.getUint32(s3 + 4);
              chunks.push({ arrivalMs, startS: decodeTime / timescale, bytes: data.byteLength });
            });
          });
        }
      });
    };
    class TappedWebSocket extends NativeWebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        // Registered before the player's onmessage can run: the arrival time is taken first.
        this.addEventListener('message', (event: MessageEvent<unknown>) => {
          const arrivalMs = Date.now();
          if (event.data instanceof ArrayBuffer) onBinary(event.data, arrivalMs);
        });
      }
    }
    window.WebSocket = TappedWebSocket;
  }

  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) {
    notes.push('no 2d canvas context');
    return;
  }
  const bitCount = config.layout.columns * config.layout.rows;

  const read = (video: HTMLVideoElement, width: number, height: number): ReturnType<DecodeFn> => {
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    context.drawImage(video, 0, 0, width, height);
    const last = center(config.layout, bitCount - 1, width);
    const rows = Math.min(height, Math.ceil(last.y + last.size / 2));
    const pixels = context.getImageData(0, 0, width, rows).data;
    return decode((index) => {
      const { x, y, size } = center(config.layout, index, width);
      // The middle half of the block: its edges blur into the neighbours after compression.
      const half = Math.max(1, Math.floor(size / 4));
      let sum = 0;
      let count = 0;
      for (let py = Math.round(y - half); py < Math.round(y + half); py += 1) {
        for (let px = Math.round(x - half); px < Math.round(x + half); px += 1) {
          sum += pixels[(py * width + px) * 4 + 1] ?? 0;
          count += 1;
        }
      }
      return count > 0 ? sum / count : 0;
    });
  };

  const record = (
    video: HTMLVideoElement,
    displayMs: number,
    leadMs: number,
    mediaTime: number,
    presented: number,
  ) => {
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (width === 0 || height === 0) return;
    const result = read(video, width, height);
    const buffered = video.buffered;
    samples.push({
      displayMs,
      leadMs,
      captureMs: result.ok ? result.ms : null,
      failure: result.ok ? null : result.why,
      mediaTime,
      presentedFrames: presented,
      aheadS: buffered.length > 0 ? buffered.end(buffered.length - 1) - video.currentTime : null,
      playbackRate: video.playbackRate,
    });
  };

  let attached: HTMLVideoElement | null = null;
  let generation = 0;
  let lastCallbackMs = 0;
  const hasVideoFrameCallback = 'requestVideoFrameCallback' in HTMLVideoElement.prototype;
  const attach = (video: HTMLVideoElement) => {
    attached = video;
    generation += 1;
    const mine = generation;
    lastCallbackMs = performance.now();
    if (hasVideoFrameCallback) {
      const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
        if (mine !== generation) return;
        video.requestVideoFrameCallback(onFrame);
        lastCallbackMs = performance.now();
        // Both clocks read together turn the page's monotonic time into wall-clock time.
        const leadMs = meta.expectedDisplayTime - performance.now();
        record(video, Date.now() + leadMs, leadMs, meta.mediaTime, meta.presentedFrames);
      };
      video.requestVideoFrameCallback(onFrame);
      return;
    }
    // Without requestVideoFrameCallback: a new currentTime at an animation frame is a new frame.
    notes.push('requestVideoFrameCallback missing: sampling at animation frames');
    let lastTime = -1;
    let count = 0;
    const onAnimationFrame = (now: number) => {
      if (mine !== generation) return;
      requestAnimationFrame(onAnimationFrame);
      lastCallbackMs = performance.now();
      if (video.currentTime === lastTime) return;
      lastTime = video.currentTime;
      count += 1;
      record(
        video,
        Date.now() + (now - performance.now()),
        now - performance.now(),
        video.currentTime,
        count,
      );
    };
    requestAnimationFrame(onAnimationFrame);
  };
  window.setInterval(() => {
    const video = document.querySelector<HTMLVideoElement>(config.selector);
    if (!video) return;
    // A player that swapped its source can leave a callback chain that never fires again.
    if (video !== attached || performance.now() - lastCallbackMs > 3000) attach(video);
  }, 200);
}

/** The script to inject with page.addInitScript. */
export function samplerScript(selector: string, tapWebSocket: boolean): string {
  const config: SamplerConfig = { selector, layout: LAYOUT, tapWebSocket };
  // tsx (esbuild with keepNames) wraps inner functions in __name(); the page has no such helper.
  return [
    'var __name = (fn) => fn;',
    `(${installSampler.toString()})(${JSON.stringify(config)}, ${JSON.stringify(PAGE_GLOBAL)}, ${blockCenter.toString()}, ${decodeTimecode.toString()});`,
  ].join('\n');
}
