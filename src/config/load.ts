// Builds a validated Config: schema defaults <- configs/<algo>.yaml <- config=<file>.yaml <- key=value.
// Every value is checked against SCHEMA before any work starts; an unknown key names the closest
// known ones, a bad value names the field, the accepted values and an example.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError } from '../errors.js';
import { closestNames } from '../util/closest.js';
import { SCHEMA, defaultConfig, type Config, type FieldSpec } from './schema.js';
import { modelSizePreset } from '../model/config.js';

/** configs/ at the package root (works from src/ and from dist/src/). */
export function configsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'configs', 'tdmpc2.yaml'))) return path.join(dir, 'configs');
    dir = path.dirname(dir);
  }
  throw new ConfigError('cannot find the configs/ folder of tdmpc-runtime (reinstall the package)');
}

function describe(spec: FieldSpec): string {
  const t = spec.type;
  switch (t.kind) {
    case 'int': return `an integer${t.min !== undefined ? ` >= ${t.min}` : ''}${t.max !== undefined ? ` and <= ${t.max}` : ''}`;
    case 'float': return `a number${t.min !== undefined ? ` >= ${t.min}` : ''}${t.max !== undefined ? ` and <= ${t.max}` : ''}`;
    case 'bool': return 'true or false';
    case 'string': return 'a string';
    case 'folder': return 'one folder name (no / or \\, not . or ..)';
    case 'enum': return `one of ${t.values.join(', ')}`;
  }
}

/** Converts a raw value (YAML scalar or CLI string) to the field's type, or throws ConfigError. */
export function coerceValue(key: string, raw: unknown, source: string): number | boolean | string | null {
  const spec = (SCHEMA as Record<string, FieldSpec>)[key];
  if (!spec) {
    const near = closestNames(key, Object.keys(SCHEMA));
    throw new ConfigError(`unknown config key '${key}' (${source}); did you mean ${near.map((n) => `'${n}'`).join(', ')}?`);
  }
  const bad = (): never => {
    throw new ConfigError(`config '${key}' (${source}) must be ${describe(spec)}, got ${JSON.stringify(raw)}; e.g. ${key}=${JSON.stringify(spec.default)}`);
  };
  if (raw === null || raw === 'null' || raw === '~') {
    if (spec.nullable) return null;
    bad();
  }
  const t = spec.type;
  switch (t.kind) {
    case 'int':
    case 'float': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.replace(/_/g, '')) : NaN;
      if (!Number.isFinite(n)) return bad();
      if (t.kind === 'int' && !Number.isInteger(n)) return bad();
      if ((t.min !== undefined && n < t.min) || (t.max !== undefined && n > t.max)) return bad();
      return n;
    }
    case 'bool':
      if (raw === true || raw === 'true' || raw === '1') return true;
      if (raw === false || raw === 'false' || raw === '0') return false;
      return bad();
    case 'string':
      if (typeof raw === 'string' || typeof raw === 'number') return String(raw);
      return bad();
    case 'folder': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return bad();
      const s = String(raw);
      if (s === '' || s === '.' || s === '..' || /[/\\]/.test(s)) return bad();
      return s;
    }
    case 'enum': {
      const s = String(raw);
      if (!t.values.includes(s)) return bad();
      return s;
    }
  }
}

/**
 * Flattens nested YAML maps into dotted keys (metrics: {port: 1} -> metrics.port). Every map is
 * flattened, also under a key that is itself a setting (`metrics` is on/off and the prefix of
 * metrics.port): no setting takes a map as its value.
 */
function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}

export function readYamlConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file '${file}': ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`config file '${file}' is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file '${file}' must be a mapping of key: value`);
  return flatten(doc as Record<string, unknown>);
}

function apply(config: Record<string, unknown>, values: Record<string, unknown>, source: string): void {
  for (const [k, v] of Object.entries(values)) config[k] = coerceValue(k, v, source);
}

/** Parses `key=value` arguments (hydra style). `config=<file>` names an extra YAML file. */
export function parseOverrides(args: string[]): { overrides: Record<string, string>; files: string[] } {
  const overrides: Record<string, string> = {};
  const files: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new ConfigError(`argument '${arg}' is not key=value; e.g. task=cartpole-swingup steps=100000`);
    const key = arg.slice(0, eq).replace(/^--?/, '').replace(/^\+/, '');
    const value = arg.slice(eq + 1);
    if (key === 'config') files.push(value);
    else overrides[key] = value;
  }
  return { overrides, files };
}

/** Loads a full config from CLI-style args. The algo preset is applied first, so `algo=` picks it. */
export function loadConfig(args: string[] = []): Config {
  return loadConfigWithSources(args).config;
}

/** A key the user gave: its raw value and where (a config= file, or 'command line', which wins). */
export type GivenKeys = Map<string, { value: unknown; source: string }>;

/** loadConfig, and the keys the args gave themselves (config= files, then the command line), for resume's checks. */
export function loadConfigWithSources(args: string[] = []): { config: Config; given: GivenKeys } {
  const { overrides, files } = parseOverrides(args);
  // Validate every override key first, so a typo fails before anything else is read.
  for (const [k, v] of Object.entries(overrides)) coerceValue(k, v, 'command line');
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const given: GivenKeys = new Map();
  const fileValues = files.map((f) => ({ f, values: readYamlConfig(f) }));
  // The preset is the algo the user asked for wherever they said it (the command line wins, then
  // the last config= file): a file's `algo: bmpc` applied after tdmpc2's preset only relabelled a
  // TD-MPC2 run.
  const fromFiles = fileValues.filter(({ values }) => 'algo' in values).at(-1);
  const algo = overrides.algo ?? (fromFiles ? coerceValue('algo', fromFiles.values.algo, fromFiles.f) as string : 'tdmpc2');
  apply(config, { algo }, overrides.algo !== undefined || !fromFiles ? 'command line' : fromFiles.f);
  apply(config, readYamlConfig(path.join(configsDir(), `${algo}.yaml`)), `configs/${algo}.yaml`);
  for (const { f, values } of fileValues) {
    apply(config, values, f);
    for (const [k, v] of Object.entries(values)) given.set(k, { value: v, source: f });
  }
  apply(config, overrides, 'command line');
  for (const [k, v] of Object.entries(overrides)) given.set(k, { value: v, source: 'command line' });
  // A resumed run keeps its checkpoint's config (its own command, resume= added, is accepted as is).
  const resolved = config as unknown as Config;
  if (resolved.resume === null) {
    checkWidthsUnderModelSize(resolved, given);
    checkOneSeedStepsSource(resolved, given);
  }
  return { config: resolved, given };
}

/** The widths a model_size preset sets, by config key. */
const PRESET_WIDTHS = { enc_dim: 'encDim', mlp_dim: 'mlpDim', latent_dim: 'latentDim', num_enc_layers: 'numEncLayers', num_q: 'numQ' } as const;

/**
 * model_size sets the widths (tdmpc2 overwrites them the same way), so a width the user gave beside
 * it did nothing: `mlp_dim=1024` trained the preset's 384 without a word. Refused, naming both ways out.
 */
function checkWidthsUnderModelSize(config: Config, given: GivenKeys): void {
  if (config.model_size === null) return;
  const preset = modelSizePreset(config.model_size);
  for (const [key, field] of Object.entries(PRESET_WIDTHS)) {
    const user = given.get(key);
    if (!user || config[key as keyof Config] === preset[field]) continue;
    throw new ConfigError(`${key}=${config[key as keyof Config]} (${user.source}) has no effect while model_size=${config.model_size} sets the widths (its ${key} is ${preset[field]}); `
      + `add model_size=null to use your own widths, or leave ${key} out`);
  }
}

/** seed_steps wins over seed_steps_coef, so a coefficient the user gave beside it did nothing. */
function checkOneSeedStepsSource(config: Config, given: GivenKeys): void {
  const steps = given.get('seed_steps');
  const coef = given.get('seed_steps_coef');
  if (!steps || !coef || config.seed_steps === null || config.seed_steps_coef === 0) return;
  throw new ConfigError(`seed_steps=${config.seed_steps} (${steps.source}) and seed_steps_coef=${config.seed_steps_coef} (${coef.source}) both set the seed steps, and seed_steps wins, so the coefficient would do nothing; `
    + 'give one of them (seed_steps=null uses the coefficient)');
}

/**
 * A config saved in a checkpoint, with the keys added since older checkpoints were written set to
 * what those runs did: no task module, and the mean over value heads (before q_estimate existed).
 */
export function completeSavedConfig(saved: Config): Config {
  return { ...saved, task_module: saved.task_module ?? null, q_estimate: saved.q_estimate ?? 'mean' };
}
