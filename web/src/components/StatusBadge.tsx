import type { StreamState } from '@contract/cameras';

const LABELS: Record<StreamState, string> = {
  online: 'Live',
  connecting: 'Connecting',
  offline: 'Offline',
  error: 'Error',
};

export function StatusBadge(props: { state: StreamState }) {
  return <span className={`badge badge-${props.state}`}>{LABELS[props.state]}</span>;
}
