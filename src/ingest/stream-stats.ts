/**
 * Frame rate and bitrate over the fragments of the last 10 s. Rates are per second of media, not
 * per second of arrival: ffmpeg delivers what it buffered while probing in one burst, which would
 * otherwise read as a frame rate several times the camera's.
 */
export class StreamStats {
  private readonly windowMs = 10_000;
  private samples: Array<{ atMs: number; byteLength: number; frameCount: number; mediaDurationMs: number }> =
    [];

  reset(): void {
    this.samples = [];
  }

  add(atMs: number, byteLength: number, frameCount: number, mediaDurationMs: number): void {
    this.samples.push({ atMs, byteLength, frameCount, mediaDurationMs });
    while (this.samples.length > 0 && this.samples[0]!.atMs < atMs - this.windowMs) this.samples.shift();
  }

  private totals(): { frames: number; bytes: number; mediaMs: number } | null {
    const mediaMs = this.samples.reduce((sum, s) => sum + s.mediaDurationMs, 0);
    if (mediaMs <= 0) return null;
    return {
      frames: this.samples.reduce((sum, s) => sum + s.frameCount, 0),
      bytes: this.samples.reduce((sum, s) => sum + s.byteLength, 0),
      mediaMs,
    };
  }

  fps(): number | null {
    const t = this.totals();
    return t ? Math.round((t.frames / t.mediaMs) * 10_000) / 10 : null;
  }

  bitrateKbps(): number | null {
    const t = this.totals();
    return t ? Math.round((t.bytes * 8) / t.mediaMs) : null;
  }
}
