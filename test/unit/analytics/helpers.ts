/** Test helpers for analytics: deterministic randomness and synthetic frames. */

/** mulberry32: a small seeded generator, so a failing random test fails the same way again. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A luma plane of one grey level with optional per-pixel noise of ±`noise` levels. */
export function greyFrame(
  width: number,
  height: number,
  level: number,
  noise = 0,
  random = seededRandom(1),
): Uint8Array {
  const frame = new Uint8Array(width * height);
  for (let i = 0; i < frame.length; i++) {
    const value = level + (noise > 0 ? Math.round((random() * 2 - 1) * noise) : 0);
    frame[i] = Math.max(0, Math.min(255, value));
  }
  return frame;
}

/** Paint a filled rectangle of `level` into a luma plane (clipped to it). */
export function paintRect(
  frame: Uint8Array,
  width: number,
  rect: { x: number; y: number; width: number; height: number },
  level: number,
): Uint8Array {
  const height = frame.length / width;
  for (let y = Math.max(0, rect.y); y < Math.min(height, rect.y + rect.height); y++) {
    for (let x = Math.max(0, rect.x); x < Math.min(width, rect.x + rect.width); x++)
      frame[y * width + x] = level;
  }
  return frame;
}
