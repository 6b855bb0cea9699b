import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';

/** A point [x, y], each 0..1 of the picture (0,0 top-left), as the config stores zones and masks. */
export type EditorPoint = [number, number];

export interface EditorPolygon {
  id: string;
  points: EditorPoint[];
  /** Names the polygon's points for screen readers. */
  label?: string;
  /** CSS colour of the outline and fill. */
  colour?: string;
  /**
   * `line`: a directed line of two points, A to B, drawn with an arrowhead at B (a tripwire);
   * `crossing` adds an arrow across its middle showing which crossing counts. Default: polygon.
   */
  shape?: 'polygon' | 'line';
  crossing?: 'a-to-b' | 'b-to-a' | 'both';
}

/** Points of a small triangle at `tip`, pointing along (dx, dy), in normalised coordinates. */
function arrowHead(tip: EditorPoint, dx: number, dy: number, size: number): string {
  const length = Math.hypot(dx, dy) || 1;
  const [ux, uy] = [dx / length, dy / length];
  const base: EditorPoint = [tip[0] - ux * size, tip[1] - uy * size];
  const left: EditorPoint = [base[0] - uy * size * 0.6, base[1] + ux * size * 0.6];
  const right: EditorPoint = [base[0] + uy * size * 0.6, base[1] - ux * size * 0.6];
  return [tip, left, right].map(([x, y]) => `${x},${y}`).join(' ');
}

/**
 * A tripwire: the line, an arrowhead at B, the letters A and B at its ends, and an arrow across
 * its middle for each crossing that counts. A→B crosses from the line's right-hand side (seen
 * from A looking at B) to its left.
 */
function LineShape(props: { line: EditorPolygon; colour: string; selected: boolean; onSelect: () => void }) {
  const [a, b] = props.line.points;
  if (!a) return null;
  if (!b) return <circle cx={a[0]} cy={a[1]} r={0.008} fill={props.colour} />;
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const middle: EditorPoint = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  // The right-hand side of A→B on screen (y down) is (-dy, dx).
  const length = Math.hypot(dx, dy) || 1;
  const [rx, ry] = [(-dy / length) * 0.05, (dx / length) * 0.05];
  const crossings = props.line.crossing ?? 'both';
  const arrows: Array<[EditorPoint, number, number]> = [];
  if (crossings !== 'b-to-a') arrows.push([[middle[0] - rx, middle[1] - ry], -rx, -ry]);
  if (crossings !== 'a-to-b') arrows.push([[middle[0] + rx, middle[1] + ry], rx, ry]);
  return (
    <>
      <line
        x1={a[0]}
        y1={a[1]}
        x2={b[0]}
        y2={b[1]}
        stroke={props.colour}
        strokeWidth={props.selected ? 4 : 3}
        vectorEffect="non-scaling-stroke"
        data-testid="tripwire"
        onPointerDown={(e) => {
          if (props.selected) return;
          e.stopPropagation();
          props.onSelect();
        }}
      />
      <polygon points={arrowHead(b, dx, dy, 0.03)} fill={props.colour} />
      {arrows.map(([tip, ax, ay], i) => (
        <g key={i} data-testid="crossing-arrow">
          <line
            x1={middle[0]}
            y1={middle[1]}
            x2={tip[0]}
            y2={tip[1]}
            stroke="#fff"
            strokeWidth={2}
            vectorEffect="non-scaling-stroke"
          />
          <polygon points={arrowHead(tip, ax, ay, 0.02)} fill="#fff" />
        </g>
      ))}
    </>
  );
}

export interface PolygonEditorProps {
  /** The picture drawn on: a snapshot of the camera. */
  imageUrl: string;
  polygons: EditorPolygon[];
  /** The polygon that clicks add points to; null: clicks select nothing. */
  selectedId: string | null;
  onSelect(id: string): void;
  onChange(id: string, points: EditorPoint[]): void;
  /** What the picture shows, for screen readers. */
  alt: string;
}

const clamp = (value: number) => Math.min(1, Math.max(0, value));
/** A new picture that fails (a camera restarting after a save) is asked for again this often… */
const RETRY_MS = 1000;
/** …this many times, while the last good picture stays on screen. */
const RETRIES = 15;

/** The last picture of `url` that loaded: a failed reload keeps the old one instead of a broken image. */
function useLoadedImage(url: string): string | null {
  const [loaded, setLoaded] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = (n: number) => {
      const image = new Image();
      const src = n === 0 ? url : `${url}${url.includes('?') ? '&' : '?'}retry=${n}`;
      image.onload = () => {
        if (!cancelled) setLoaded(src);
      };
      image.onerror = () => {
        if (!cancelled && n < RETRIES) timer = setTimeout(() => attempt(n + 1), RETRY_MS);
      };
      image.src = src;
    };
    attempt(0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [url]);
  return loaded;
}

/**
 * Draws and edits polygons over a picture, in normalised coordinates: click on the picture to
 * add a point to the selected polygon, drag a point to move it, double-click (or select it and
 * press Delete) to remove it. Used for privacy masks, zones, object masks and tripwires (two points,
 * A then B).
 */
export function PolygonEditor(props: PolygonEditorProps) {
  const svg = useRef<SVGSVGElement>(null);
  const [dragging, setDragging] = useState<{ id: string; index: number } | null>(null);
  const [focused, setFocused] = useState<{ id: string; index: number } | null>(null);
  const imageUrl = useLoadedImage(props.imageUrl);

  const pointAt = (event: { clientX: number; clientY: number }): EditorPoint | null => {
    const rect = svg.current?.getBoundingClientRect();
    if (!rect || rect.width === 0 || rect.height === 0) return null;
    const round = (v: number) => Math.round(clamp(v) * 10_000) / 10_000;
    return [round((event.clientX - rect.left) / rect.width), round((event.clientY - rect.top) / rect.height)];
  };

  const polygonOf = (id: string) => props.polygons.find((p) => p.id === id);

  const addPoint = (event: ReactPointerEvent<SVGSVGElement>) => {
    if (dragging || props.selectedId === null || event.button !== 0) return;
    const selected = polygonOf(props.selectedId);
    const point = pointAt(event);
    if (!selected || !point) return;
    // A line has two points: a third click starts it again from there.
    if (selected.shape === 'line' && selected.points.length >= 2) {
      props.onChange(selected.id, [point]);
      return;
    }
    props.onChange(selected.id, [...selected.points, point]);
  };

  const movePoint = (event: ReactPointerEvent<SVGSVGElement>) => {
    if (!dragging) return;
    const polygon = polygonOf(dragging.id);
    const point = pointAt(event);
    if (!polygon || !point) return;
    props.onChange(
      polygon.id,
      polygon.points.map((p, i) => (i === dragging.index ? point : p)),
    );
  };

  const removePoint = (id: string, index: number) => {
    const polygon = polygonOf(id);
    if (!polygon) return;
    props.onChange(
      id,
      polygon.points.filter((_, i) => i !== index),
    );
    setFocused(null);
  };

  return (
    <div className="polygon-editor">
      {imageUrl ? (
        <img src={imageUrl} alt={props.alt} draggable={false} />
      ) : (
        <div className="polygon-editor-placeholder">Waiting for a picture…</div>
      )}
      <svg
        ref={svg}
        viewBox="0 0 1 1"
        preserveAspectRatio="none"
        role="application"
        aria-label="Drawing area: click to add a point to the selected shape"
        data-testid="polygon-canvas"
        onPointerDown={addPoint}
        onPointerMove={movePoint}
        onPointerUp={() => setDragging(null)}
        onPointerLeave={() => setDragging(null)}
      >
        {props.polygons.map((polygon) => {
          const selected = polygon.id === props.selectedId;
          const colour = polygon.colour ?? '#ff9500';
          return (
            <g key={polygon.id} data-polygon={polygon.id} className={selected ? 'selected' : undefined}>
              {polygon.shape === 'line' ? (
                <LineShape
                  line={polygon}
                  colour={colour}
                  selected={selected}
                  onSelect={() => props.onSelect(polygon.id)}
                />
              ) : (
                <polygon
                  points={polygon.points.map(([x, y]) => `${x},${y}`).join(' ')}
                  fill={colour}
                  fillOpacity={selected ? 0.35 : 0.2}
                  stroke={colour}
                  strokeWidth={selected ? 3 : 2}
                  vectorEffect="non-scaling-stroke"
                  onPointerDown={(e) => {
                    if (selected) return;
                    e.stopPropagation();
                    props.onSelect(polygon.id);
                  }}
                />
              )}
              {selected &&
                polygon.points.map(([x, y], index) => (
                  <circle
                    key={index}
                    cx={x}
                    cy={y}
                    r={0.012}
                    tabIndex={0}
                    role="button"
                    aria-label={`Point ${index + 1} of ${polygon.label ?? polygon.id}: drag to move, Delete to remove`}
                    className={
                      focused?.id === polygon.id && focused.index === index ? 'vertex focused' : 'vertex'
                    }
                    fill="#fff"
                    stroke={colour}
                    strokeWidth={2}
                    vectorEffect="non-scaling-stroke"
                    onFocus={() => setFocused({ id: polygon.id, index })}
                    onPointerDown={(e) => {
                      e.stopPropagation();
                      (e.target as Element).setPointerCapture?.(e.pointerId);
                      setDragging({ id: polygon.id, index });
                    }}
                    onDoubleClick={(e) => {
                      e.stopPropagation();
                      removePoint(polygon.id, index);
                    }}
                    onKeyDown={(e) => {
                      if (e.key === 'Delete' || e.key === 'Backspace') removePoint(polygon.id, index);
                    }}
                  />
                ))}
            </g>
          );
        })}
      </svg>
      {props.polygons
        .filter((p) => p.shape === 'line')
        .flatMap((line) =>
          line.points.slice(0, 2).map(([x, y], i) => (
            <span
              key={`${line.id}-${i}`}
              className="line-end"
              aria-hidden="true"
              style={{ left: `${x * 100}%`, top: `${y * 100}%` }}
            >
              {i === 0 ? 'A' : 'B'}
            </span>
          )),
        )}
    </div>
  );
}
