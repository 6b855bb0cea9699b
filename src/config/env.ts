import { joinPath, type ConfigProblem } from './problems.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvSubstitution {
  value: unknown;
  problems: ConfigProblem[];
  /** Names of variables that are not set, each once. */
  missingVariables: string[];
  /** Paths whose value could not be substituted: other checks skip them. */
  failedPaths: Set<string>;
}

const REFERENCE = /\$\$\{|\$\{([^}]*)(\}?)/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces `${NAME}` in every string value (keys are left alone) with the variable's value;
 * `$${` stands for a literal `${`. Runs on parsed YAML, so a value with YAML-special characters
 * cannot change the document's structure.
 */
export function substituteEnv(input: unknown, env: Env, prefix = ''): EnvSubstitution {
  const result: EnvSubstitution = {
    value: undefined,
    problems: [],
    missingVariables: [],
    failedPaths: new Set(),
  };

  function substitute(text: string, path: string): string {
    let failed = false;
    const out = text.replace(
      REFERENCE,
      (match: string, name: string | undefined, close: string | undefined) => {
        if (match === '$${') return '${';
        const ref = name ?? '';
        if (close !== '}' || !NAME.test(ref)) {
          failed = true;
          result.problems.push({
            path,
            message:
              close !== '}'
                ? "'${' is not closed: write ${NAME}, or $${ for a literal ${"
                : `'\${${ref}}' is not a variable reference: names are letters, digits and _; write $\${ for a literal \${`,
          });
          return match;
        }
        const value = env[ref];
        if (value === undefined) {
          failed = true;
          if (!result.missingVariables.includes(ref)) result.missingVariables.push(ref);
          result.problems.push({
            path,
            message: `environment variable ${ref} is not set (write $\${ for a literal \${)`,
          });
          return match;
        }
        return value;
      },
    );
    if (failed) result.failedPaths.add(path);
    return out;
  }

  function walk(value: unknown, path: string): unknown {
    if (typeof value === 'string') return substitute(value, path);
    if (Array.isArray(value)) return value.map((item: unknown, i) => walk(item, joinPath(path, i)));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        // defineProperty, so a YAML key named __proto__ stays a key and cannot swap the prototype.
        Object.defineProperty(out, key, {
          value: walk(item, joinPath(path, key)),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return value;
  }

  result.value = walk(input, prefix);
  return result;
}
