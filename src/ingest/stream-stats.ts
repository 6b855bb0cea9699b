/** Frame rate and bitrate over a sliding window, measured from the fragments that arrive. */
export class StreamStats {
  private readonly windowMs = 10_000;
  private samples: Array<{ atMs: number; byteLength: number; frameCount: number }> = [];

  reset(): void {
    this.samples = [];
  }

  add(atMs: number, byteLength: number, frameCount: number): void {
    this.samples.push({ atMs, byteLength, frameCount });
    while (this.samples.length > 0 && this.samples[0]!.atMs < atMs - this.windowMs) this.samples.shift();
  }

  private spanMs(nowMs: number): number | null {
    const first = this.samples[0];
    if (!first || this.samples.length < 2) return null;
    // The first fragment's contents arrived before its own timestamp, so it opens the window.
    return Math.max(1, nowMs - first.atMs);
  }

  fps(nowMs: number): number | null {
    const span = this.spanMs(nowMs);
    if (span === null) return null;
    const frames = this.samples.slice(1).reduce((sum, s) => sum + s.frameCount, 0);
    return Math.round((frames / span) * 10_000) / 10;
  }

  bitrateKbps(nowMs: number): number | null {
    const span = this.spanMs(nowMs);
    if (span === null) return null;
    const bytes = this.samples.slice(1).reduce((sum, s) => sum + s.byteLength, 0);
    return Math.round((bytes * 8) / span);
  }
}
