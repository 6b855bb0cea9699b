import { useState } from 'react';
import type { RuleAction, RuleCondition, RuleDefinition, RuleView, Weekday } from '@contract/rules';
import { api } from '../api';
import { formatDateTime } from '../format';
import { useSession } from '../session';
import { usePoll } from '../usePoll';

const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const CONDITION_TYPES: RuleCondition['type'][] = [
  'zone-entered',
  'zone-left',
  'intrusion',
  'loitering',
  'line-crossed',
  'crowding',
  'camera-health',
];

function blankCondition(type: RuleCondition['type']): RuleCondition {
  switch (type) {
    case 'zone-entered':
    case 'zone-left':
      return { type, zoneId: '', labels: ['person'] };
    case 'intrusion':
    case 'loitering':
      return { type, zoneId: '', minInsideMs: 30_000, labels: ['person'] };
    case 'line-crossed':
      return { type, lineId: '', direction: 'a-to-b', labels: ['person'] };
    case 'crowding':
      return { type, zoneId: '', labels: ['person'], moreThan: 5, forMs: 30_000 };
    case 'camera-health':
      return { type, states: ['stream-lost', 'tamper-covered', 'tamper-moved'] };
  }
}

const BLANK: RuleDefinition = {
  id: '',
  name: '',
  enabled: true,
  cameras: 'all',
  conditions: [blankCondition('line-crossed')],
  schedule: null,
  actions: [],
  limit: { maxAlerts: 10, windowMs: 600_000, cooldownMs: 0 },
};

/** The list of rules (config rules read-only) and, for those who may, the form that makes and edits them. */
export function RulesPage() {
  const { can } = useSession();
  const rules = usePoll(() => api.rules(), 30_000);
  const [editing, setEditing] = useState<{ rule: RuleDefinition; isNew: boolean } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const manage = can('rules.manage');

  const remove = async (rule: RuleView) => {
    if (!window.confirm(`Remove the rule "${rule.name}"? Its alerts stay.`)) return;
    try {
      await api.deleteRule(rule.id);
      setMessage(`Removed "${rule.name}".`);
    } catch (err) {
      setMessage((err as Error).message);
    }
    rules.refresh();
  };

  return (
    <section aria-label="Rules" className="rules-page">
      <div className="toolbar">
        <h1>Rules</h1>
        {manage && (
          <button type="button" onClick={() => setEditing({ rule: BLANK, isNew: true })}>
            New rule
          </button>
        )}
      </div>
      {rules.error && <p className="error">{rules.error}</p>}
      {message && (
        <p role="status" className="muted">
          {message}
        </p>
      )}
      {editing && (
        <RuleForm
          initial={editing.rule}
          isNew={editing.isNew}
          onDone={(text) => {
            setEditing(null);
            setMessage(text);
            rules.refresh();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      <table className="rule-table">
        <thead>
          <tr>
            <th>Rule</th>
            <th>Cameras</th>
            <th>Conditions</th>
            <th>Alerts</th>
            <th>Held back</th>
            <th>Last</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(rules.data ?? []).map((rule) => (
            <tr key={rule.id} data-rule-id={rule.id}>
              <td>
                {rule.name}
                {!rule.enabled && <span className="muted"> (off)</span>}
                {rule.source === 'config' && <span className="muted"> · config file, read-only</span>}
              </td>
              <td>{rule.cameras === 'all' ? 'all' : rule.cameras.join(', ')}</td>
              <td>{rule.conditions.map((c) => c.type).join(', ')}</td>
              <td>{rule.status.alertCount}</td>
              <td>{rule.status.suppressedCount}</td>
              <td>{rule.status.lastAlertMs === null ? '—' : formatDateTime(rule.status.lastAlertMs)}</td>
              <td>
                {manage && rule.source === 'api' && (
                  <>
                    <button
                      type="button"
                      className="ghost"
                      onClick={() => setEditing({ rule, isNew: false })}
                    >
                      Edit
                    </button>
                    <button type="button" className="ghost danger" onClick={() => void remove(rule)}>
                      Remove
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function RuleForm(props: {
  initial: RuleDefinition;
  isNew: boolean;
  onDone: (message: string) => void;
  onCancel: () => void;
}) {
  const [rule, setRule] = useState<RuleDefinition>(props.initial);
  const [error, setError] = useState<string | null>(null);
  const set = (changes: Partial<RuleDefinition>) => setRule((r) => ({ ...r, ...changes }));
  const setCondition = (index: number, condition: RuleCondition) =>
    set({ conditions: rule.conditions.map((c, i) => (i === index ? condition : c)) });
  const hasAction = (type: RuleAction['type']) => rule.actions.some((a) => a.type === type);
  const toggleAction = (action: RuleAction, on: boolean) =>
    set({
      actions: on
        ? [...rule.actions.filter((a) => a.type !== action.type), action]
        : rule.actions.filter((a) => a.type !== action.type),
    });
  const keepDays = rule.actions.find((a) => a.type === 'keep');
  const webhook = rule.actions.find((a) => a.type === 'webhook');

  const save = async () => {
    setError(null);
    try {
      const saved = props.isNew ? await api.createRule(rule) : await api.updateRule(rule);
      props.onDone(`Saved "${saved.name}".`);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <form
      className="rule-form"
      aria-label="Rule"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label>
        Id{' '}
        <input
          value={rule.id}
          disabled={!props.isNew}
          onChange={(e) => set({ id: e.target.value })}
          required
        />
      </label>
      <label>
        Name <input value={rule.name} onChange={(e) => set({ name: e.target.value })} required />
      </label>
      <label>
        <input type="checkbox" checked={rule.enabled} onChange={(e) => set({ enabled: e.target.checked })} />{' '}
        Enabled
      </label>
      <label>
        Cameras (ids, comma-separated; empty: all){' '}
        <input
          value={rule.cameras === 'all' ? '' : rule.cameras.join(', ')}
          onChange={(e) => {
            const ids = list(e.target.value);
            set({ cameras: ids.length === 0 ? 'all' : ids });
          }}
        />
      </label>
      <fieldset>
        <legend>Conditions (any of them fires the rule)</legend>
        {rule.conditions.map((condition, index) => (
          <ConditionEditor
            key={index}
            condition={condition}
            onChange={(c) => setCondition(index, c)}
            onRemove={
              rule.conditions.length > 1
                ? () => set({ conditions: rule.conditions.filter((_, i) => i !== index) })
                : undefined
            }
          />
        ))}
        <button
          type="button"
          className="ghost"
          onClick={() => set({ conditions: [...rule.conditions, blankCondition('zone-entered')] })}
        >
          Add a condition
        </button>
      </fieldset>
      <fieldset>
        <legend>Schedule (site time zone)</legend>
        <label>
          <input
            type="checkbox"
            checked={rule.schedule === null}
            onChange={(e) =>
              set({ schedule: e.target.checked ? null : { days: [...WEEKDAYS], times: ['08:00-20:00'] } })
            }
          />{' '}
          Always
        </label>
        {rule.schedule && (
          <>
            {WEEKDAYS.map((day) => (
              <label key={day}>
                <input
                  type="checkbox"
                  checked={rule.schedule?.days.includes(day) ?? false}
                  onChange={(e) => {
                    const days = rule.schedule?.days ?? [];
                    const next = e.target.checked ? [...days, day] : days.filter((d) => d !== day);
                    set({
                      schedule: {
                        days: WEEKDAYS.filter((d) => next.includes(d)),
                        times: rule.schedule?.times ?? [],
                      },
                    });
                  }}
                />{' '}
                {day}
              </label>
            ))}
            <label>
              Times (e.g. 08:00-20:00, 22:00-06:00){' '}
              <input
                value={rule.schedule.times.join(', ')}
                onChange={(e) =>
                  set({ schedule: { days: rule.schedule?.days ?? [], times: list(e.target.value) } })
                }
              />
            </label>
          </>
        )}
      </fieldset>
      <fieldset>
        <legend>Actions (an alert is always made)</legend>
        <label>
          <input
            type="checkbox"
            checked={hasAction('push')}
            onChange={(e) => toggleAction({ type: 'push' }, e.target.checked)}
          />{' '}
          Push to phones
        </label>
        <label>
          <input
            type="checkbox"
            checked={hasAction('mqtt')}
            onChange={(e) => toggleAction({ type: 'mqtt' }, e.target.checked)}
          />{' '}
          MQTT
        </label>
        <label>
          <input
            type="checkbox"
            checked={webhook !== undefined}
            onChange={(e) => toggleAction({ type: 'webhook', webhookId: '' }, e.target.checked)}
          />{' '}
          Webhook{' '}
          {webhook?.type === 'webhook' && (
            <input
              aria-label="Webhook id"
              value={webhook.webhookId}
              onChange={(e) => toggleAction({ type: 'webhook', webhookId: e.target.value }, true)}
            />
          )}
        </label>
        <label>
          <input
            type="checkbox"
            checked={keepDays !== undefined}
            onChange={(e) => toggleAction({ type: 'keep', days: 30 }, e.target.checked)}
          />{' '}
          Keep the recording{' '}
          {keepDays?.type === 'keep' && (
            <input
              type="number"
              min={1}
              aria-label="Days to keep"
              value={keepDays.days}
              onChange={(e) => toggleAction({ type: 'keep', days: Number(e.target.value) }, true)}
            />
          )}{' '}
          days
        </label>
      </fieldset>
      <fieldset>
        <legend>Limits</legend>
        <label>
          At most{' '}
          <input
            type="number"
            min={1}
            value={rule.limit.maxAlerts}
            onChange={(e) => set({ limit: { ...rule.limit, maxAlerts: Number(e.target.value) } })}
          />{' '}
          alerts per{' '}
          <input
            type="number"
            min={0}
            value={rule.limit.windowMs / 60_000}
            onChange={(e) => set({ limit: { ...rule.limit, windowMs: Number(e.target.value) * 60_000 } })}
          />{' '}
          minutes
        </label>
        <label>
          Quiet after an alert, per camera{' '}
          <input
            type="number"
            min={0}
            value={rule.limit.cooldownMs / 1000}
            onChange={(e) => set({ limit: { ...rule.limit, cooldownMs: Number(e.target.value) * 1000 } })}
          />{' '}
          s
        </label>
      </fieldset>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <p className="form-actions">
        <button type="submit">Save rule</button>
        <button type="button" className="ghost" onClick={props.onCancel}>
          Cancel
        </button>
      </p>
    </form>
  );
}

function ConditionEditor(props: {
  condition: RuleCondition;
  onChange: (condition: RuleCondition) => void;
  onRemove: (() => void) | undefined;
}) {
  const { condition, onChange } = props;
  const labels = 'labels' in condition ? (condition.labels ?? []) : [];
  return (
    <div className="rule-condition">
      <select
        aria-label="Condition"
        value={condition.type}
        onChange={(e) => onChange(blankCondition(e.target.value as RuleCondition['type']))}
      >
        {CONDITION_TYPES.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      {'zoneId' in condition && (
        <label>
          Zone id{' '}
          <input
            value={condition.zoneId}
            onChange={(e) => onChange({ ...condition, zoneId: e.target.value })}
          />
        </label>
      )}
      {condition.type === 'line-crossed' && (
        <>
          <label>
            Line id{' '}
            <input
              value={condition.lineId}
              onChange={(e) => onChange({ ...condition, lineId: e.target.value })}
            />
          </label>
          <select
            aria-label="Direction"
            value={condition.direction}
            onChange={(e) =>
              onChange({ ...condition, direction: e.target.value as 'a-to-b' | 'b-to-a' | 'both' })
            }
          >
            <option value="a-to-b">A→B</option>
            <option value="b-to-a">B→A</option>
            <option value="both">both ways</option>
          </select>
        </>
      )}
      {'minInsideMs' in condition && (
        <label>
          Inside for at least{' '}
          <input
            type="number"
            min={0}
            value={condition.minInsideMs / 1000}
            onChange={(e) => onChange({ ...condition, minInsideMs: Number(e.target.value) * 1000 })}
          />{' '}
          s
        </label>
      )}
      {condition.type === 'crowding' && (
        <label>
          More than{' '}
          <input
            type="number"
            min={0}
            value={condition.moreThan}
            onChange={(e) => onChange({ ...condition, moreThan: Number(e.target.value) })}
          />{' '}
          for{' '}
          <input
            type="number"
            min={0}
            value={condition.forMs / 1000}
            onChange={(e) => onChange({ ...condition, forMs: Number(e.target.value) * 1000 })}
          />{' '}
          s
        </label>
      )}
      {condition.type !== 'camera-health' && (
        <label>
          Labels{' '}
          <input
            value={labels.join(', ')}
            onChange={(e) => onChange({ ...condition, labels: list(e.target.value) })}
          />
        </label>
      )}
      {condition.type === 'camera-health' && (
        <label>
          States{' '}
          <input
            value={condition.states.join(', ')}
            onChange={(e) =>
              onChange({ ...condition, states: list(e.target.value) as typeof condition.states })
            }
          />
        </label>
      )}
      {props.onRemove && (
        <button type="button" className="ghost danger" onClick={props.onRemove}>
          Remove
        </button>
      )}
    </div>
  );
}
