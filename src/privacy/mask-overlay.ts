import sharp from 'sharp';

/** A point in normalised image coordinates: [x, y], each 0..1 of the frame's width and height. */
export type MaskPoint = readonly [number, number];
export type MaskPolygon = readonly MaskPoint[];

/**
 * An RGBA picture of the frame's size: opaque black inside the polygons, transparent elsewhere.
 * Every output that applies privacy masks composites this one picture (stills with sharp, video
 * through ffmpeg's overlay filter), so a mask covers the same pixels in a snapshot, a live view
 * and an export. Edges are not anti-aliased: a half-covered pixel is covered.
 */
export async function maskOverlayPng(
  polygons: readonly MaskPolygon[],
  width: number,
  height: number,
): Promise<Buffer> {
  return sharp(Buffer.from(maskOverlaySvg(polygons, width, height)))
    .png()
    .toBuffer();
}

/** The overlay as SVG; pure, so the geometry can be tested without decoding anything. */
export function maskOverlaySvg(polygons: readonly MaskPolygon[], width: number, height: number): string {
  const shapes = polygons
    .filter((polygon) => polygon.length >= 3)
    .map((polygon) => {
      const points = polygon.map(([x, y]) => `${round(x * width)},${round(y * height)}`).join(' ');
      return `<polygon points="${points}" fill="#000" stroke="#000" stroke-width="2" shape-rendering="crispEdges"/>`;
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}">${shapes}</svg>`
  );
}

/** A JPEG (or any picture sharp reads) with the polygons blacked out, as JPEG. */
export async function maskStill(image: Buffer, polygons: readonly MaskPolygon[]): Promise<Buffer> {
  if (polygons.length === 0) return image;
  const { width, height } = await sharp(image).metadata();
  if (width === undefined || height === undefined) return image;
  const overlay = await maskOverlayPng(polygons, width, height);
  return sharp(image)
    .composite([{ input: overlay }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

function round(value: number): string {
  return (Math.round(value * 100) / 100).toString();
}
