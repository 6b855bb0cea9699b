/**
 * The URL of a worker thread's entry module `name` (without extension), next to the module at
 * `moduleUrl`. Built (.js), that is the file itself. Run from the TypeScript sources under tsx
 * (tests, benchmarks), a worker on Node 20 does not inherit tsx's loader hooks, so a small
 * bootstrap registers them before importing the .ts entry.
 */
export function workerEntryUrl(moduleUrl: string, name: string): URL {
  if (!moduleUrl.endsWith('.ts')) return new URL(`./${name}.js`, moduleUrl);
  const entry = new URL(`./${name}.ts`, moduleUrl).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}
