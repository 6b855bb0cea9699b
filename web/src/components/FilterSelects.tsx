import type { CameraView } from '@contract/cameras';

/** The labels a camera detects unless told otherwise (detect.labels' default). */
const LABELS = ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck', 'dog', 'cat'] as const;

/** "Camera" picker of a page's toolbar; `allLabel` adds an option for every camera (value ''). */
export function CameraSelect(props: {
  cameras: readonly CameraView[];
  value: string;
  onChange: (id: string) => void;
  allLabel?: string;
}) {
  return (
    <label>
      Camera{' '}
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {props.allLabel !== undefined && <option value="">{props.allLabel}</option>}
        {props.cameras.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** "Object" picker: one label, or everything (value ''). */
export function LabelSelect(props: { value: string; onChange: (label: string) => void }) {
  return (
    <label>
      Object{' '}
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">Everything</option>
        {LABELS.map((l) => (
          <option key={l} value={l}>
            {l}
          </option>
        ))}
      </select>
    </label>
  );
}
