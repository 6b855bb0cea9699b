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

/** The zone and line ids of a camera's scene. */
export interface SceneIds {
  zones: readonly string[];
  lines: readonly string[];
}

/**
 * What JSON Schema cannot say about a rule: cameras that do not exist, zones and lines none of its
 * cameras has (when `sceneOf` knows the cameras' scenes), empty time ranges, a size filter whose
 * minimum is above its maximum. `path` names the rule (`rules[2]`).
 */
export function ruleProblems(
  rule: RuleDefinition,
  path: string,
  cameraIds: ReadonlySet<string>,
  sceneOf?: (cameraId: string) => SceneIds | undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (sceneOf) problems.push(...sceneProblems(rule, path, cameraIds, sceneOf));
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

/** Zones and lines a rule names that none of its cameras has: such a condition could never hold. */
function sceneProblems(
  rule: RuleDefinition,
  path: string,
  cameraIds: ReadonlySet<string>,
  sceneOf: (cameraId: string) => SceneIds | undefined,
): ConfigProblem[] {
  const cameras = (rule.cameras === 'all' ? [...cameraIds] : rule.cameras).filter((id) => cameraIds.has(id));
  const scenes = cameras.map((id) => sceneOf(id) ?? { zones: [], lines: [] });
  const problems: ConfigProblem[] = [];
  rule.conditions.forEach((condition, i) => {
    const where = rule.cameras === 'all' ? 'any camera' : `cameras ${cameras.join(', ')}`;
    if ('zoneId' in condition && !scenes.some((scene) => scene.zones.includes(condition.zoneId))) {
      problems.push({
        path: `${path}.conditions[${i}].zoneId`,
        message: `unknown zone '${condition.zoneId}': no zone of ${where} has this id (cameras[].scene.zones)`,
      });
    }
    if ('lineId' in condition && !scenes.some((scene) => scene.lines.includes(condition.lineId))) {
      problems.push({
        path: `${path}.conditions[${i}].lineId`,
        message: `unknown line '${condition.lineId}': no line of ${where} has this id (cameras[].scene.lines)`,
      });
    }
  });
  return problems;
}
