// Renders a config as commented YAML: configs/default.yaml is this output for the defaults, and
// every run writes its resolved config next to its results with it. Dotted keys stay flat
// (`metrics.port: 9464`) because `metrics` itself is a boolean.
import { SCHEMA, type Config, type FieldSpec } from './schema.js';

function scalar(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return /^[A-Za-z][A-Za-z0-9_./-]*$/.test(v) && !/^(true|false|null|yes|no|on|off)$/i.test(v) ? v : JSON.stringify(v);
  return String(v);
}

export function renderConfigYaml(cfg: Config, header: string): string {
  const lines = header.trimEnd().split('\n');
  lines.push('');
  for (const [key, spec] of Object.entries(SCHEMA) as [string, FieldSpec][]) {
    lines.push(`${key}: ${scalar((cfg as Record<string, unknown>)[key])}  # ${spec.doc}`);
  }
  return lines.join('\n') + '\n';
}
