import { sql } from 'kysely';
import type { Db } from '../storage/db.js';

/**
 * What a change to the store may have taken away from credentials in use: one login session
 * (by its id hash), one API token, or anything of a user's (sessions, tokens, role, grants,
 * disabled, deleted). Listeners re-check the credentials it names; open live views and
 * downloads must not outlive the access that started them (src/api/connections.ts).
 */
export type CredentialChange =
  { kind: 'session'; idHash: string } | { kind: 'token'; tokenId: number } | { kind: 'user'; userId: number };

/** `touch: false` resolves without recording use (periodic re-checks of open responses). */
export interface ResolveOptions {
  touch?: boolean;
}

/**
 * Tells listeners in this process about changes that may narrow or end credentials, and lets
 * them notice changes made by other processes. The user, session and token stores share one.
 */
export class CredentialChanges {
  private readonly listeners = new Set<(change: CredentialChange) => void>();

  constructor(private readonly db: Db) {}

  /**
   * Calls `listener` after each change in this process that may narrow or end credentials;
   * returns the unsubscribe function. Changes made by another process (the `vigil` CLI) are
   * not seen here: see changeGeneration().
   */
  onCredentialChange(listener: (change: CredentialChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A number that differs from the last call's when another process has committed to the
   * database since (SQLite's `PRAGMA data_version`, one cheap query). This process's own
   * writes do not change it: those come through onCredentialChange().
   */
  async changeGeneration(): Promise<number> {
    const result = await sql<{ data_version: number }>`PRAGMA data_version`.execute(this.db);
    return Number(result.rows[0]?.data_version ?? 0);
  }

  notify(change: CredentialChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure must not fail the change that was already committed.
      }
    }
  }
}
