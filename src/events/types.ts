/**
 * The in-process event bus's own shape of an event change. What goes on the wire (events, the
 * /api/ws messages) is in src/contract: events.ts and push.ts.
 */
import type { EventChangeType, EventView } from '../contract/events.js';

/** An event opened, changed or ended. `before` is null for 'new'. */
export interface EventChange {
  type: EventChangeType;
  before: EventView | null;
  after: EventView;
}
