import type { Db } from '../storage/db.js';
import type { Clock } from '../time/clock.js';
import type { SecretBox } from './secrets.js';
import { verifyTotp, type TotpVerification } from './totp.js';

export type TotpCheck = TotpVerification | { ok: false; reason: 'not-enabled' };

/** Users' second factor: TOTP secrets, sealed in the users table, and the last step used. */
export class TotpStore {
  constructor(
    private readonly db: Db,
    private readonly options: { clock: Clock; secrets: SecretBox },
  ) {}

  /**
   * Turns TOTP on once the user proves their app has the secret (a right code for it). The
   * secret is stored sealed; the code's step counts as used.
   */
  async enableTotp(userId: number, secretBase32: string, code: string): Promise<TotpVerification> {
    const result = verifyTotp(secretBase32, code, this.options.clock.nowMs());
    if (!result.ok) return result;
    await this.db
      .updateTable('users')
      .set({
        totp_secret: this.options.secrets.seal(secretBase32, totpContext(userId)),
        totp_last_step: result.step,
        updated_at_ms: this.options.clock.nowMs(),
      })
      .where('id', '=', userId)
      .execute();
    return result;
  }

  async disableTotp(userId: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ totp_secret: null, totp_last_step: null, updated_at_ms: this.options.clock.nowMs() })
      .where('id', '=', userId)
      .execute();
  }

  /**
   * Checks a one-time code and marks its step used. The step is recorded with a conditional
   * UPDATE, so two requests racing with the same code cannot both succeed.
   */
  async checkTotp(userId: number, code: string): Promise<TotpCheck> {
    const row = await this.db
      .selectFrom('users')
      .select(['totp_secret', 'totp_last_step'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!row?.totp_secret) return { ok: false, reason: 'not-enabled' };
    const secret = this.options.secrets.open(row.totp_secret, totpContext(userId));
    const result = verifyTotp(secret, code, this.options.clock.nowMs(), { lastUsedStep: row.totp_last_step });
    if (!result.ok) return result;
    const claimed = await this.db
      .updateTable('users')
      .set({ totp_last_step: result.step })
      .where('id', '=', userId)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', result.step)]))
      .executeTakeFirst();
    return Number(claimed.numUpdatedRows) === 1 ? result : { ok: false, reason: 'replayed' };
  }
}

/** The sealing context of a user's TOTP secret: a sealed secret moved to another user's row does not open. */
function totpContext(userId: number): string {
  return `totp:user:${userId}`;
}
