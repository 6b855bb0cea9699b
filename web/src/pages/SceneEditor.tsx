import { useState } from 'react';
import type { CameraView } from '@contract/cameras';
import type { CameraSceneView, LineDirectionFilter, LineView, ScenePoint, ZoneView } from '@contract/scene';
import { api, ApiError } from '../api';
import { PolygonEditor, type EditorPolygon } from '../components/PolygonEditor';
import { href, navigate } from '../router';
import { useSession } from '../session';
import { cameraInputOf } from './camera-input';

const ZONE_COLOUR = '#34c759';
const LINE_COLOUR = '#ffcc00';
const MASK_COLOUR = '#8e8e93';
/** A line end not drawn yet (an empty point): the editor shows none, and saving asks for it first. */
const NO_POINT = [] as unknown as ScenePoint;

/** What is selected: a zone or line by id, an object mask by its place in the list. */
type Selection = { kind: 'zone' | 'line'; id: string } | { kind: 'mask'; index: number };

const keyOf = (s: Selection) => (s.kind === 'mask' ? `mask:${s.index}` : `${s.kind}:${s.id}`);

function selectionOf(key: string): Selection | null {
  const [kind, rest] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  if (kind === 'mask') return { kind, index: Number(rest) };
  if (kind === 'zone' || kind === 'line') return { kind, id: rest };
  return null;
}

/** A new id: zone-1, line-2 … whichever is free among zones and lines (they share ids). */
function freeId(scene: CameraSceneView, prefix: string): string {
  const taken = new Set([...scene.zones, ...scene.lines].map((x) => x.id));
  for (let i = 1; ; i++) if (!taken.has(`${prefix}-${i}`)) return `${prefix}-${i}`;
}

const labelsText = (labels: readonly string[]) => labels.join(', ');
const labelsOf = (text: string) =>
  text
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

function shapes(scene: CameraSceneView): EditorPolygon[] {
  return [
    ...scene.objectMasks.map((points, index) => ({
      id: keyOf({ kind: 'mask', index }),
      points,
      label: `object mask ${index + 1}`,
      colour: MASK_COLOUR,
    })),
    ...scene.zones.map((z) => ({
      id: keyOf({ kind: 'zone', id: z.id }),
      points: z.points,
      label: z.name,
      colour: ZONE_COLOUR,
    })),
    ...scene.lines.map((l) => ({
      id: keyOf({ kind: 'line', id: l.id }),
      points: [l.a, l.b].filter((p) => p.length === 2),
      label: l.name,
      colour: LINE_COLOUR,
      shape: 'line' as const,
      crossing: l.direction,
    })),
  ];
}

/** The problem the server would name first, checked here so that a half-drawn shape is not sent. */
function unfinished(scene: CameraSceneView): string | null {
  const zone = scene.zones.find((z) => z.points.length < 3);
  if (zone) return `zone '${zone.name}' needs at least three points`;
  const line = scene.lines.find((l) => l.a.length !== 2 || l.b.length !== 2);
  if (line) return `line '${line.name}' needs two points: click A, then B`;
  const mask = scene.objectMasks.findIndex((m) => m.length < 3);
  if (mask >= 0) return `object mask ${mask + 1} needs at least three points`;
  return null;
}

/**
 * The "Zones & lines" editor of a camera: zones (areas), tripwires (directed lines A→B, with the
 * crossings that count) and object masks drawn on a live snapshot, saved with the camera. The
 * server applies them at once, without restarting the camera.
 */
export function SceneEditor(props: { camera: CameraView; onSaved: () => void }) {
  const { camera } = props;
  const session = useSession();
  const [scene, setScene] = useState<CameraSceneView>(() => camera.scene);
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [saving, setSaving] = useState(false);
  const editable = camera.source === 'api' && session.can('cameras.manage');
  const selection = selectedKey ? selectionOf(selectedKey) : null;
  const zone = selection?.kind === 'zone' ? scene.zones.find((z) => z.id === selection.id) : undefined;
  const line = selection?.kind === 'line' ? scene.lines.find((l) => l.id === selection.id) : undefined;

  const update = (next: CameraSceneView) => {
    setSaved(false);
    setScene(next);
  };
  const changeZone = (id: string, patch: Partial<ZoneView>) =>
    update({ ...scene, zones: scene.zones.map((z) => (z.id === id ? { ...z, ...patch } : z)) });
  const changeLine = (id: string, patch: Partial<LineView>) =>
    update({ ...scene, lines: scene.lines.map((l) => (l.id === id ? { ...l, ...patch } : l)) });

  const changePoints = (key: string, points: ScenePoint[]) => {
    const target = selectionOf(key);
    if (!target) return;
    if (target.kind === 'mask') {
      const { index } = target;
      update({ ...scene, objectMasks: scene.objectMasks.map((m, i) => (i === index ? points : m)) });
    } else if (target.kind === 'zone') changeZone(target.id, { points });
    else changeLine(target.id, { a: points[0] ?? NO_POINT, b: points[1] ?? NO_POINT });
  };

  const add = (kind: 'zone' | 'line' | 'mask') => {
    if (kind === 'mask') {
      update({ ...scene, objectMasks: [...scene.objectMasks, []] });
      setSelectedKey(keyOf({ kind, index: scene.objectMasks.length }));
      return;
    }
    const id = freeId(scene, kind);
    if (kind === 'zone')
      update({ ...scene, zones: [...scene.zones, { id, name: id, points: [], labels: [] }] });
    else {
      update({
        ...scene,
        lines: [...scene.lines, { id, name: id, a: NO_POINT, b: NO_POINT, direction: 'both', labels: [] }],
      });
    }
    setSelectedKey(keyOf({ kind, id }));
  };

  const remove = () => {
    if (!selection) return;
    if (selection.kind === 'mask') {
      const { index } = selection;
      update({ ...scene, objectMasks: scene.objectMasks.filter((_, i) => i !== index) });
    } else if (selection.kind === 'zone')
      update({ ...scene, zones: scene.zones.filter((z) => z.id !== selection.id) });
    else update({ ...scene, lines: scene.lines.filter((l) => l.id !== selection.id) });
    setSelectedKey(null);
  };

  const save = async () => {
    setError(null);
    const problem = unfinished(scene);
    if (problem) {
      setError(problem);
      return;
    }
    setSaving(true);
    try {
      await api.updateCamera({ ...cameraInputOf(camera), scene });
      setSaved(true);
      props.onSaved();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <section className="privacy-editor" aria-label="Zones and lines">
      <div className="toolbar">
        <h1>Zones &amp; lines: {camera.name}</h1>
        <a className="button ghost" href={href(['cameras'])}>
          Back to cameras
        </a>
      </div>
      <p className="muted">
        Zones report objects entering and leaving them and how many are inside; tripwires count objects
        crossing them, per direction; detections standing in an object mask are ignored. An object is where
        its reference point is. Changes apply at once, without restarting the camera.
        {!editable && ' This camera is defined in the configuration file: change its zones and lines there.'}
      </p>
      <div className="privacy-layout">
        <PolygonEditor
          imageUrl={`/api/cameras/${encodeURIComponent(camera.id)}/snapshot.jpg`}
          alt={`Snapshot of ${camera.name}`}
          polygons={shapes(scene)}
          selectedId={editable ? selectedKey : null}
          onSelect={setSelectedKey}
          onChange={changePoints}
        />
        <div className="privacy-side">
          <ul className="mask-list">
            {shapes(scene).map((shape) => (
              <li
                key={shape.id}
                className={shape.id === selectedKey ? 'selected' : undefined}
                data-scene-item={shape.id}
              >
                <button type="button" className="ghost" onClick={() => setSelectedKey(shape.id)}>
                  {shape.label}{' '}
                  <span className="muted">
                    (
                    {shape.shape === 'line'
                      ? 'tripwire'
                      : shape.colour === ZONE_COLOUR
                        ? 'zone'
                        : 'object mask'}
                    , {shape.points.length} points)
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {editable && (
            <div className="form-actions">
              <button type="button" onClick={() => add('zone')}>
                Add zone
              </button>
              <button type="button" onClick={() => add('line')}>
                Add tripwire
              </button>
              <button type="button" className="ghost" onClick={() => add('mask')}>
                Add object mask
              </button>
            </div>
          )}
          {editable && (zone || line) && (
            <fieldset className="mask-fields">
              <legend>{zone ? 'Selected zone' : 'Selected tripwire'}</legend>
              <label>
                Name
                <input
                  name="scene-name"
                  value={(zone ?? line)?.name ?? ''}
                  onChange={(e) =>
                    zone
                      ? changeZone(zone.id, { name: e.target.value })
                      : line && changeLine(line.id, { name: e.target.value })
                  }
                />
              </label>
              {line && (
                <label>
                  Counts
                  <select
                    name="line-direction"
                    value={line.direction}
                    onChange={(e) =>
                      changeLine(line.id, { direction: e.target.value as LineDirectionFilter })
                    }
                  >
                    <option value="both">Both ways</option>
                    <option value="a-to-b">A→B only</option>
                    <option value="b-to-a">B→A only</option>
                  </select>
                </label>
              )}
              <label>
                Labels (empty: all)
                <input
                  name="scene-labels"
                  placeholder="person, car"
                  value={labelsText((zone ?? line)?.labels ?? [])}
                  onChange={(e) =>
                    zone
                      ? changeZone(zone.id, { labels: labelsOf(e.target.value) })
                      : line && changeLine(line.id, { labels: labelsOf(e.target.value) })
                  }
                />
              </label>
              <p className="muted">
                {line
                  ? 'Click the picture for A, then for B. The white arrows across the line show the crossings that count (A→B: from the right of A→B to its left). Drag a point to move it.'
                  : 'Click the picture to add points; drag a point to move it; double-click it to remove it.'}
              </p>
            </fieldset>
          )}
          {editable && selection && (
            <button type="button" className="ghost danger" onClick={remove}>
              Delete selected
            </button>
          )}
          {editable && (
            <label>
              Reference point
              <select
                name="reference-point"
                value={scene.referencePoint}
                onChange={(e) =>
                  update({ ...scene, referencePoint: e.target.value as CameraSceneView['referencePoint'] })
                }
              >
                <option value="bottom-centre">Bottom centre of the box (where it stands)</option>
                <option value="centre">Centre of the box (camera looking down)</option>
              </select>
            </label>
          )}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          {saved && <p role="status">Saved.</p>}
          {editable && (
            <div className="form-actions">
              <button type="button" disabled={saving} onClick={() => void save()}>
                {saving ? 'Saving…' : 'Save zones & lines'}
              </button>
              <button type="button" className="ghost" onClick={() => navigate(['cameras'])}>
                Cancel
              </button>
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
