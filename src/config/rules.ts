import type { RuleDefinition } from '../contract/rules.js';
import type { ConfigProblem } from './problems.js';
import { DEFAULT_RULE_LIMIT, type RuleConfigInput } from './schema.js';

/** A rule as written (schema-valid) with its defaults filled in. */
export function normaliseRule(input: RuleConfigInput): RuleDefinition {
  return {
    id: input.id,
    name: input.name,
    enabled: input.enabled ?? true,
    cameras: input.cameras ?? 'all',
    conditions: input.conditions,
    schedule: input.schedule ?? null,
    actions: input.actions ?? [],
    limit: input.limit ?? { ...DEFAULT_RULE_LIMIT },
  };
}

function startEnd(range: string): [string, string] {
  const [start = '', end = ''] = range.split('-');
  return [start, end];
}

/**
 * What JSON Schema cannot say about a rule: cameras that do not exist, empty time ranges, a size
 * filter whose minimum is above its maximum. `path` names the rule (`rules[2]`).
 */
export function ruleProblems(
  rule: RuleDefinition,
  path: string,
  cameraIds: ReadonlySet<string>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (rule.cameras !== 'all') {
    rule.cameras.forEach((id, i) => {
      if (!cameraIds.has(id)) {
        problems.push({
          path: `${path}.cameras[${i}]`,
          message: `unknown camera '${id}': name a camera by its id`,
        });
      }
    });
  }
  rule.schedule?.times.forEach((range, i) => {
    const [start, end] = startEnd(range);
    if (start === end) {
      problems.push({
        path: `${path}.schedule.times[${i}]`,
        message: `'${range}' is empty: start and end are the same`,
      });
    }
  });
  rule.conditions.forEach((condition, i) => {
    if (!('minAreaFraction' in condition) || !('maxAreaFraction' in condition)) return;
    const { minAreaFraction, maxAreaFraction } = condition;
    if (minAreaFraction !== undefined && maxAreaFraction !== undefined && minAreaFraction > maxAreaFraction) {
      problems.push({
        path: `${path}.conditions[${i}].minAreaFraction`,
        message: `${minAreaFraction} is above maxAreaFraction ${maxAreaFraction}`,
      });
    }
  });
  return problems;
}
