import type { Box } from '../geometry.js';
import type { RgbImage } from './types.js';

/**
 * Crop `region` (frame pixels; it may extend beyond the image) out of an RGB image and resize it
 * to `outWidth`×`outHeight` with bilinear interpolation. Output pixels whose source lies outside
 * the image get `fill` (letterbox padding). Writes into `out` when given, so a pipeline can reuse
 * one buffer per model input. Pure TypeScript: no sharp or canvas needed in the analytics path.
 *
 * Sampling is centre-aligned (output pixel centres map to source pixel centres), as in OpenCV's
 * and sharp's resize, so boxes map back with a plain scale and offset (see mapBoxFromRegion).
 */
export function cropResizeRgb(
  image: RgbImage,
  region: Box,
  outWidth: number,
  outHeight: number,
  out: Uint8Array = new Uint8Array(outWidth * outHeight * 3),
  fill = 0,
): RgbImage {
  if (out.length < outWidth * outHeight * 3) throw new RangeError('output buffer too small');
  if (image.data.length < image.width * image.height * 3) throw new RangeError('image buffer too small');
  const columns = axisTaps(region.x, region.width, outWidth, image.width);
  const rows = axisTaps(region.y, region.height, outHeight, image.height);
  const src = image.data;
  const rowBytes = image.width * 3;
  for (let oy = 0; oy < outHeight; oy++) {
    const outRow = oy * outWidth * 3;
    if (rows.inside[oy] === 0) {
      out.fill(fill, outRow, outRow + outWidth * 3);
      continue;
    }
    const top = rows.first[oy]! * rowBytes;
    const bottom = rows.second[oy]! * rowBytes;
    const wy = rows.weight[oy]!;
    for (let ox = 0; ox < outWidth; ox++) {
      const o = outRow + ox * 3;
      if (columns.inside[ox] === 0) {
        out[o] = fill;
        out[o + 1] = fill;
        out[o + 2] = fill;
        continue;
      }
      const left = columns.first[ox]! * 3;
      const right = columns.second[ox]! * 3;
      const wx = columns.weight[ox]!;
      for (let c = 0; c < 3; c++) {
        const upper = src[top + left + c]! + (src[top + right + c]! - src[top + left + c]!) * wx;
        const lower = src[bottom + left + c]! + (src[bottom + right + c]! - src[bottom + left + c]!) * wx;
        out[o + c] = (upper + (lower - upper) * wy + 0.5) | 0;
      }
    }
  }
  return { data: out, width: outWidth, height: outHeight };
}

/** Per output index along one axis: the two source indices, the weight of the second, inside or not. */
interface AxisTaps {
  first: Int32Array;
  second: Int32Array;
  weight: Float32Array;
  inside: Uint8Array;
}

function axisTaps(start: number, length: number, outLength: number, sourceLength: number): AxisTaps {
  const taps: AxisTaps = {
    first: new Int32Array(outLength),
    second: new Int32Array(outLength),
    weight: new Float32Array(outLength),
    inside: new Uint8Array(outLength),
  };
  const scale = length / outLength;
  for (let i = 0; i < outLength; i++) {
    const position = start + (i + 0.5) * scale;
    // Outside the image: padding.
    if (position < 0 || position > sourceLength) continue;
    const s = Math.min(Math.max(position - 0.5, 0), sourceLength - 1);
    const first = Math.floor(s);
    taps.first[i] = first;
    taps.second[i] = Math.min(first + 1, sourceLength - 1);
    taps.weight[i] = s - first;
    taps.inside[i] = 1;
  }
  return taps;
}

/** Map a box from a region's resized image (`inputWidth`×`inputHeight`) back to frame pixels. */
export function mapBoxFromRegion(box: Box, region: Box, inputWidth: number, inputHeight = inputWidth): Box {
  const sx = region.width / inputWidth;
  const sy = region.height / inputHeight;
  return {
    x: region.x + box.x * sx,
    y: region.y + box.y * sy,
    width: box.width * sx,
    height: box.height * sy,
  };
}
