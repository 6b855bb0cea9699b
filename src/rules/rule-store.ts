import type { RuleDefinition } from '../contract/rules.js';
import type { Db } from '../storage/db.js';

/** Rules made through the API, in the index database (the config file's are not stored). */
export class RuleStore {
  constructor(private readonly db: Db) {}

  async list(): Promise<RuleDefinition[]> {
    const rows = await this.db.selectFrom('rules').select('definition_json').orderBy('id').execute();
    return rows.map((row) => JSON.parse(row.definition_json) as RuleDefinition);
  }

  async insert(rule: RuleDefinition, createdBy: string, nowMs: number): Promise<void> {
    await this.db
      .insertInto('rules')
      .values({
        id: rule.id,
        definition_json: JSON.stringify(rule),
        created_by: createdBy,
        created_at_ms: nowMs,
        updated_at_ms: nowMs,
      })
      .execute();
  }

  /** False when there is no such rule. */
  async update(rule: RuleDefinition, nowMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('rules')
      .set({ definition_json: JSON.stringify(rule), updated_at_ms: nowMs })
      .where('id', '=', rule.id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('rules').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
