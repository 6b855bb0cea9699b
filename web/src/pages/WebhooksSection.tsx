import { useState } from 'react';
import type { WebhookDeliveryView } from '@contract/notify';
import { api } from '../api';
import { FormError } from '../components/FormError';
import { formatDateTime } from '../format';
import { usePoll } from '../usePoll';

function outcome(d: WebhookDeliveryView): string {
  if (d.state === 'delivered') return `delivered (HTTP ${d.lastStatus ?? '?'})`;
  const why = d.lastError ?? 'not attempted yet';
  return d.state === 'pending' && d.nextAttemptAtMs !== null
    ? `${why}; next attempt ${formatDateTime(d.nextAttemptAtMs)}`
    : why;
}

/** The webhooks of notify.webhooks: a test button each, and the latest deliveries with their answers. */
export function WebhooksSection() {
  const webhooks = usePoll(api.webhooks, 600_000);
  const deliveries = usePoll(api.webhookDeliveries, 5000);
  const [testing, setTesting] = useState<string | null>(null);
  const [result, setResult] = useState<WebhookDeliveryView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const list = webhooks.data ?? [];
  if (list.length === 0) return null;

  const test = async (id: string) => {
    setTesting(id);
    setError(null);
    setResult(null);
    try {
      setResult(await api.testWebhook(id));
      deliveries.refresh();
    } catch (err) {
      setError(err);
    } finally {
      setTesting(null);
    }
  };

  return (
    <section aria-label="Webhooks">
      <h2>Webhooks</h2>
      <table className="table webhooks">
        <thead>
          <tr>
            <th>Webhook</th>
            <th>Receiver</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((w) => (
            <tr key={w.id}>
              <td>{w.id}</td>
              <td>
                <code>{w.origin}</code>
              </td>
              <td>
                <button
                  type="button"
                  className="ghost"
                  disabled={testing !== null}
                  onClick={() => void test(w.id)}
                >
                  {testing === w.id ? 'Sending…' : 'Send a test'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <FormError error={error} />
      {result && (
        <p role="status" data-testid="webhook-test-result">
          Test to {result.webhookId}: {outcome(result)}
        </p>
      )}
      {(deliveries.data ?? []).length > 0 && (
        <table className="table deliveries" aria-label="Latest deliveries">
          <thead>
            <tr>
              <th>Created</th>
              <th>Webhook</th>
              <th>Alert</th>
              <th>Attempts</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {(deliveries.data ?? []).map((d) => (
              <tr key={d.id}>
                <td>{formatDateTime(d.createdAtMs)}</td>
                <td>{d.webhookId}</td>
                <td>{d.alertId === 0 ? 'test' : d.alertId}</td>
                <td>{d.attemptCount}</td>
                <td>{outcome(d)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
