import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig, loadConfigWithSources, parseOverrides, configsDir } from '../src/config/load.js';
import { inertSettings } from '../src/config/inert-keys.js';
import { runTraining } from '../src/trainer/run.js';
import { SCHEMA, defaultConfig } from '../src/config/schema.js';
import { checkLearningPhase, checkReplayHoldsBatch, deriveConfig, discountHeuristic } from '../src/config/derive.js';
import { renderConfigYaml } from '../src/config/render.js';
import { MODEL_SIZES } from '../src/model/config.js';
import { ConfigError } from '../src/errors.js';
import { worldModelConfigFor } from '../src/agent/agent.js';

const cartpole = { name: 'cartpole-swingup', obsDim: 5, actionDim: 1, episodeLength: 500, episodic: false };

describe('config', () => {
  it('every schema field has a doc line and a default of its type', () => {
    for (const [key, spec] of Object.entries(SCHEMA)) {
      expect(spec.doc.length, key).toBeGreaterThan(5);
      if (spec.default === null) expect('nullable' in spec && spec.nullable, key).toBe(true);
    }
  });

  it('configs/default.yaml lists exactly the schema defaults', () => {
    const doc = YAML.parse(readFileSync(`${configsDir()}/default.yaml`, 'utf8')) as Record<string, unknown>;
    const flat: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc)) {
      if (v && typeof v === 'object') for (const [k2, v2] of Object.entries(v)) flat[`${k}.${k2}`] = v2;
      else flat[k] = v;
    }
    expect(flat).toEqual(defaultConfig());
    // Its comments are the schema's doc lines too (it is the renderer's output for the defaults).
    const text = readFileSync(`${configsDir()}/default.yaml`, 'utf8');
    const header = text.split('\n').slice(0, 2).join('\n');
    expect(text).toBe(renderConfigYaml(defaultConfig(), header));
  });

  it('applies the algo preset, then key=value overrides', () => {
    const t = loadConfig(['task=walker-walk', 'steps=5000']);
    expect(t.algo).toBe('tdmpc2');
    expect(t.value_form).toBe('Q');
    expect(t.steps).toBe(5000);
    const b = loadConfig(['algo=bmpc', 'seed=3']);
    expect(b.value_form).toBe('V');
    expect(b.policy_objective).toBe('distill');
    expect(b.reanalyze_interval).toBe(10);
    expect(b.seed).toBe(3);
    const e = loadConfig([`config=${configsDir()}/bmpc-equivalence.yaml`]);
    expect(e.algo).toBe('tdmpc2');
    expect(e.fix_kl_order).toBe(true);
    expect(e.num_q).toBe(2);
  });

  it('applies the preset of an algo set in a config= file (it used to apply tdmpc2\'s and only relabel the run)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tdmpc-cfg-'));
    try {
      const bmpcFile = path.join(dir, 'bmpc-sweep.yaml');
      writeFileSync(bmpcFile, 'algo: bmpc\nseed: 4\n');
      const fromFile = loadConfig([`config=${bmpcFile}`]);
      expect(fromFile).toEqual({ ...loadConfig(['algo=bmpc']), seed: 4 });
      expect([fromFile.value_form, fromFile.policy_objective, fromFile.reanalyze_interval]).toEqual(['V', 'distill', 10]);
      // The preset files name their algo, so passing one as config= runs that algo.
      expect(loadConfig([`config=${configsDir()}/bmpc.yaml`])).toEqual(loadConfig(['algo=bmpc']));
      // The command line wins over a file, and the last file over earlier ones, as for every key.
      expect(loadConfig([`config=${bmpcFile}`, 'algo=tdmpc2'])).toEqual({ ...loadConfig([]), seed: 4 });
      const tdmpc2File = path.join(dir, 'tdmpc2.yaml');
      writeFileSync(tdmpc2File, 'algo: tdmpc2\n');
      expect(loadConfig([`config=${bmpcFile}`, `config=${tdmpc2File}`])).toEqual({ ...loadConfig([]), seed: 4 });
      expect(loadConfig([`config=${tdmpc2File}`, `config=${bmpcFile}`])).toEqual({ ...loadConfig(['algo=bmpc']), seed: 4 });
      writeFileSync(tdmpc2File, 'algo: dreamer\n');
      expect(() => loadConfig([`config=${tdmpc2File}`])).toThrow(`config 'algo' (${tdmpc2File}) must be one of tdmpc2, bmpc, got "dreamer"`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a width given beside a model_size preset, which sets it (mlp_dim=1024 trained the preset\'s 384 without a word)', () => {
    expect(() => loadConfig(['mlp_dim=1024'])).toThrow(
      'mlp_dim=1024 (command line) has no effect while model_size=1 sets the widths (its mlp_dim is 384); add model_size=null to use your own widths, or leave mlp_dim out');
    expect(() => loadConfig(['model_size=5', 'num_q=2'])).toThrow(/^num_q=2 \(command line\) has no effect while model_size=5 .*its num_q is 5\)/);
    expect(() => loadConfig(['algo=bmpc', 'model_size=19', 'latent_dim=512'])).toThrow(/^latent_dim=512 .* model_size=19 .*its latent_dim is 768\)/);
    const dir = mkdtempSync(path.join(tmpdir(), 'tdmpc-cfg-'));
    try {
      const file = path.join(dir, 'wide.yaml');
      writeFileSync(file, 'enc_dim: 512\n');
      expect(() => loadConfig([`config=${file}`])).toThrow(`enc_dim=512 (${file}) has no effect while model_size=1`);
      expect(loadConfig([`config=${file}`, 'model_size=null']).enc_dim).toBe(512);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Accepted: the preset's own values, widths with model_size=null, bmpc's preset widths, and resume (the checkpoint's config rules).
    expect(loadConfig(['mlp_dim=384', 'num_q=2']).mlp_dim).toBe(384);
    expect(loadConfig(['model_size=null', 'mlp_dim=1024']).mlp_dim).toBe(1024);
    expect(loadConfig(['algo=bmpc', 'mlp_dim=1024']).mlp_dim).toBe(1024);
    expect(loadConfig([`config=${configsDir()}/bmpc-equivalence.yaml`]).num_q).toBe(2);
    expect(loadConfig(['resume=x.ckpt', 'mlp_dim=1024']).mlp_dim).toBe(1024);
  });

  it('refuses seed_steps and seed_steps_coef given together (seed_steps won and the coefficient did nothing)', () => {
    expect(() => loadConfig(['seed_steps=500', 'seed_steps_coef=2'])).toThrow(
      'seed_steps=500 (command line) and seed_steps_coef=2 (command line) both set the seed steps, and seed_steps wins, so the coefficient would do nothing; give one of them (seed_steps=null uses the coefficient)');
    expect(loadConfig(['seed_steps=null', 'seed_steps_coef=2']).seed_steps_coef).toBe(2);
    expect(loadConfig(['seed_steps=500', 'seed_steps_coef=0']).seed_steps).toBe(500);
    expect(loadConfig([`config=${configsDir()}/tdmpc-square.yaml`, 'seed_steps=500']).seed_steps).toBe(500); // its coef is 0
  });

  it('warns, before any work, of given keys that do nothing in the run (kl_reduce=sum under max_q trained the run without it, silently)', () => {
    const inert = (...args: string[]) => { const { config, given } = loadConfigWithSources(args); return inertSettings(config, given); };
    expect(inert('kl_reduce=sum')).toEqual(["kl_reduce=sum (command line) has no effect: only policy_objective=distill reads it, and this run's policy_objective is max_q"]);
    expect(inert('algo=bmpc', 'prior_coef=2', 'entropy_coef=0.01', 'q_target=mean')).toEqual([
      "prior_coef=2 (command line) has no effect: only policy_objective=residual reads it, and this run's policy_objective is distill",
      'entropy_coef=0.01 (command line) has no effect: policy_objective=distill schedules its entropy coefficient with start_entropy_coeff and end_entropy_coeff instead',
      'q_target=mean (command line) has no effect: value_form=V always takes the mean over value heads',
    ]);
    expect(inert('runtime=sync', 'actors=2', 'metrics=false', 'metrics.port=9500', 'eval_episodes=0', 'eval_freq=500', 'reanalyze_batch_size=8', 'grad_clip_norm=0', 'grad_clip_scope=module', 'termination_coef=2')).toEqual([
      'reanalyze_batch_size=8 (command line) has no effect: reanalysis is off (reanalyze_interval=0)',
      'termination_coef=2 (command line) has no effect: the run learns no termination head (termination=false)',
      'grad_clip_scope=module (command line) has no effect: gradients are not clipped (grad_clip_norm=0)',
      'actors=2 (command line) has no effect: only runtime=threads reads it (runtime=sync is one loop)',
      'metrics.port=9500 (command line) has no effect: metrics are off (metrics=false)',
      'eval_freq=500 (command line) has no effect: the run does not evaluate (eval_episodes=0)',
    ]);
    // The features on: nothing to say; the presets' own parameters of unused features are never named.
    expect(inert('algo=bmpc', 'kl_reduce=mean', 'reanalyze_interval=10', 'reanalyze_batch_size=8', 'termination=true', 'termination_coef=2')).toEqual([]);
    expect(inert('algo=tdmpc2', 'policy_objective=distill')).toEqual([]);
    expect(inert(`config=${configsDir()}/tdmpc-square.yaml`)).toEqual([]);
    expect(inert(`config=${configsDir()}/bmpc.yaml`)).toEqual([]);
    // A file's keys are named with the file.
    const dir = mkdtempSync(path.join(tmpdir(), 'tdmpc-inert-'));
    const file = path.join(dir, 'sweep.yaml');
    writeFileSync(file, 'kl_scale_tau: 0.05\n');
    expect(inert(`config=${file}`)).toEqual([`kl_scale_tau=0.05 (${file}) has no effect: only policy_objective=distill reads it, and this run's policy_objective is max_q`]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the inert-key warnings when a run starts, before any refusal or work', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => { errors.push(line); });
    const dir = mkdtempSync(path.join(tmpdir(), 'tdmpc-inert-run-'));
    const file = path.join(dir, 'a-file');
    writeFileSync(file, '');
    try {
      // work_dir under a file: refused before any work, after the warnings.
      await expect(runTraining(['runtime=sync', 'kl_reduce=sum', `work_dir=${path.join(file, 'runs')}`])).rejects.toThrow(ConfigError);
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(errors).toEqual(["tdmpc: kl_reduce=sum (command line) has no effect: only policy_objective=distill reads it, and this run's policy_objective is max_q"]);
  });

  it('reads nested YAML maps as dotted keys, also under a key that is itself a setting', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tdmpc-cfg-'));
    try {
      const file = path.join(dir, 'run.yaml');
      writeFileSync(file, 'task: walker-walk\nmetrics:\n  port: 19480\n  host: 0.0.0.0\n');
      const c = loadConfig([`config=${file}`]);
      expect([c.task, c['metrics.port'], c['metrics.host'], c.metrics]).toEqual(['walker-walk', 19480, '0.0.0.0', true]);
      writeFileSync(file, 'metrics:\n  prot: 1\n');
      expect(() => loadConfig([`config=${file}`])).toThrow(/metrics\.prot.*metrics\.port/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown keys naming the closest known key', () => {
    expect(() => loadConfig(['utd_raito=2'])).toThrow(ConfigError);
    expect(() => loadConfig(['utd_raito=2'])).toThrow(/utd_ratio/);
    expect(() => loadConfig(['horizn=3'])).toThrow(/horizon/);
  });

  it('rejects bad values naming the field and what is accepted', () => {
    expect(() => loadConfig(['steps=-5'])).toThrow(/'steps'.*integer >= 1/);
    // The threaded runtime counts steps in int32 (a run past 2^31 steps would wrap its counters).
    expect(() => loadConfig(['steps=3000000000'])).toThrow(/'steps'.*integer >= 1 and <= 2000000000, got "3000000000"/);
    expect(() => loadConfig(['algo=ppo'])).toThrow(/one of tdmpc2, bmpc/);
    expect(() => loadConfig(['mpc=maybe'])).toThrow(/true or false/);
    expect(() => loadConfig(['lr=abc'])).toThrow(/'lr'/);
    expect(() => loadConfig(['model_size=7'])).toThrow(/one of 1, 5, 19, 48, 317/);
    expect(() => parseOverrides(['steps'])).toThrow(/key=value/);
    expect(() => loadConfig(['config=/nonexistent.yaml'])).toThrow(/cannot read config file/);
    // exp_name is one folder of the run's path: it cannot climb out of <work_dir>/<task>/<algo>.
    for (const bad of ['../../x', 'a/b', '..', 'a\\b']) expect(() => loadConfig([`exp_name=${bad}`])).toThrow(/'exp_name'.*one folder name/);
    expect(loadConfig(['exp_name=utd=4,lr=3e-4']).exp_name).toBe('utd=4,lr=3e-4');
  });

  it('derives discount, seed steps, iterations and model dims in one place', () => {
    const cfg = loadConfig([]);
    const d = deriveConfig(cfg, cartpole);
    expect(d.discount).toBeCloseTo(discountHeuristic(500, 5, 0.95, 0.995));
    expect(d.discount).toBeCloseTo(0.99);
    expect(d.seedSteps).toBe(2500);
    expect(d.pretrainUpdates).toBe(2500);
    expect(d.iterations).toBe(6);
    expect(d.latentDim).toBe(MODEL_SIZES[1].latentDim);
    const humanoid = deriveConfig(cfg, { ...cartpole, actionDim: 21 });
    expect(humanoid.iterations).toBe(8);
    expect(deriveConfig(loadConfig(['iterations=4']), { ...cartpole, actionDim: 21 }).iterations).toBe(6); // tdmpc2: += 2
    const coef = deriveConfig(loadConfig(['seed_steps_coef=2', 'num_envs=4']), cartpole);
    expect(coef.seedSteps).toBe(4000);
    const bmpc = deriveConfig(loadConfig(['algo=bmpc']), cartpole);
    expect(bmpc.pretrainUpdates).toBe(0);
    expect(bmpc.latentDim).toBe(512);
    // Each algorithm's reference init: PyTorch's trunc_normal_ (tdmpc2), JAX's (bmpc-jax).
    expect(worldModelConfigFor(loadConfig(['algo=bmpc']), bmpc).init).toBe('trunc_normal_jax');
    expect(worldModelConfigFor(cfg, d).init).toBe('trunc_normal');
    // ... and its dropout placement: Dense, LN, act, Dropout in bmpc-jax; Linear, Dropout, LN, act in tdmpc2.
    expect(worldModelConfigFor(loadConfig(['algo=bmpc']), bmpc).valueDropoutPosition).toBe('after_act');
    expect(worldModelConfigFor(cfg, d).valueDropoutPosition).toBe('before_norm');
    expect(() => deriveConfig(loadConfig(['termination=true']), cartpole)).toThrow(/termination/);
  });

  it('refuses runs in which no training slice of horizon+1 steps can exist, naming the field and the value that fits', () => {
    // Seeding must give some env horizon+1 = 4 steps before the first update.
    expect(() => deriveConfig(loadConfig(['seed_steps=0', 'runtime=sync']), cartpole)).toThrow(
      "seed_steps=0 spread over 1 env(s) leaves 0 step(s) per env when updates start, but a training slice needs horizon+1 = 4 consecutive steps of one env; set seed_steps to at least 4, or leave it unset for the default max(1000, 5 x episode_length)");
    expect(deriveConfig(loadConfig(['seed_steps=4', 'runtime=sync']), cartpole).seedSteps).toBe(4);
    // Threads spread seeding over actors x num_envs envs.
    expect(() => deriveConfig(loadConfig(['seed_steps=24', 'actors=2', 'num_envs=4']), cartpole)).toThrow(/^seed_steps=24 spread over 8 env\(s\) \(actors x num_envs\) leaves 3 step\(s\) per env .* set seed_steps to at least 25/);
    expect(deriveConfig(loadConfig(['seed_steps=25', 'actors=2', 'num_envs=4']), cartpole).seedSteps).toBe(25); // ceil(25 / 8) = 4
    expect(() => deriveConfig(loadConfig(['seed_steps_coef=0.001', 'episode_length=50']), cartpole)).toThrow(/^seed_steps_coef=0.001 \(seed_steps 0\) .* at least 4$/);
    expect(() => deriveConfig(loadConfig(['horizon=64', 'num_envs=64', 'runtime=sync']), cartpole)).toThrow(/^the default seed_steps \(2500\) spread over 64 env\(s\) leaves 40 .* at least 4097$/);
    // An episode of L steps stores L+1 observations.
    expect(() => deriveConfig(loadConfig(['episode_length=2', 'seed_steps=100']), cartpole)).toThrow(
      'episode_length=2 is shorter than horizon=3: no episode holds a training slice of horizon+1 = 4 observations; lower horizon to at most 2 or raise episode_length');
    expect(() => deriveConfig(loadConfig(['horizon=5', 'seed_steps=100']), { ...cartpole, episodeLength: 4 })).toThrow(/^the task's episode length \(4 steps\) is shorter than horizon=5: .* lower horizon to at most 4$/);
    expect(deriveConfig(loadConfig(['episode_length=3', 'seed_steps=100']), cartpole).episodeLength).toBe(3);
  });

  it('refuses model shapes the update cannot train before any work (the threaded learner would fail after the run folder exists)', () => {
    expect(() => deriveConfig(loadConfig(['num_dynamics_heads=2']), cartpole)).toThrow(
      'num_dynamics_heads=2: the update trains a single dynamics head (ensemble dynamics are not built); use num_dynamics_heads=1');
    expect(() => loadConfig(['num_bins=1'])).toThrow(/'num_bins'.*integer >= 2, got "1"; e\.g\. num_bins=101/);
  });

  it('refuses a fresh run that ends before any update (it saved an untrained agent), naming the steps and seed_steps that fit', () => {
    const derive = (...args: string[]) => {
      const cfg = loadConfig(args);
      const derived = deriveConfig(cfg, cartpole);
      checkLearningPhase(cfg, derived);
      return derived;
    };
    expect(() => derive('steps=1000')).toThrow(
      'steps=1000 ends before any update: the default seed_steps (2500) of random actions come first, so the run would save an untrained agent; raise steps to at least 2501, or set seed_steps to at most 999');
    expect(derive('steps=2501').seedSteps).toBe(2500);
    expect(derive('steps=1000', 'seed_steps=999').seedSteps).toBe(999);
    // Whole vector steps: 3 envs take seed steps 0-101 (102 > 100), then steps 102-104 learn.
    // (batch_size=16: a batch of 256 would need 249 steps, and that advice is tested below.)
    expect(() => derive('steps=100', 'seed_steps=100', 'num_envs=3', 'runtime=sync', 'batch_size=16')).toThrow(/^steps=100 ends before any update: seed_steps=100 of random actions come first \(in vector steps of num_envs=3\), .*raise steps to at least 103, or set seed_steps to at most 99$/);
    expect(derive('steps=103', 'seed_steps=100', 'num_envs=3', 'runtime=sync', 'batch_size=16').seedSteps).toBe(100);
    // A resumed run may end in seeding (runs chunked by steps=), and deriving alone (tdmpc eval) does not train.
    const short = loadConfig(['steps=1000']);
    expect(() => checkLearningPhase({ ...short, resume: 'x.ckpt' }, deriveConfig(short, cartpole))).not.toThrow();
    expect(deriveConfig(short, cartpole).seedSteps).toBe(2500);
  });

  it('names the learning-phase fault first, with advice that does not lead into the replay-size refusals', () => {
    // Each refusal's advice, taken, must give an accepted run (replay sizes as the sync loop counts them).
    const refuse = (...args: string[]): string => {
      const cfg = loadConfig(['runtime=sync', ...args]);
      try {
        const derived = deriveConfig(cfg, cartpole);
        checkLearningPhase(cfg, derived);
        checkReplayHoldsBatch(cfg, derived, derived.bufferSize);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    // steps=5 used to name only the replay's horizon slots (raise steps to 7), then 2501 for seeding.
    expect(refuse('steps=5', 'seed_steps=100', 'batch_size=16')).toBe(
      'steps=5 ends before any update: seed_steps=100 of random actions come first, so the run would save an untrained agent; raise steps to at least 101');
    expect(refuse('steps=101', 'seed_steps=100', 'batch_size=16')).toBe('accepted');
    // The steps named also fill a batch of 256 (253 steps + 1 final observation + 2 = 256 slots).
    expect(refuse('steps=20', 'seed_steps=100')).toMatch(/raise steps to at least 253$/);
    expect(refuse('steps=252', 'seed_steps=100')).toMatch(/^batch_size=256 needs a replay of at least 256 slots, but it holds 255: .*raise steps to at least 253$/);
    expect(refuse('steps=253', 'seed_steps=100')).toBe('accepted');
    // Fewer seed steps are offered only where this run's steps already hold a batch.
    expect(refuse('steps=20', 'seed_steps=100', 'batch_size=16')).toMatch(/raise steps to at least 101, or set seed_steps to at most 19$/);
    expect(refuse('steps=20', 'seed_steps=19', 'batch_size=16')).toBe('accepted');
    expect(refuse('steps=300', 'seed_steps=300')).toMatch(/raise steps to at least 301, or set seed_steps to at most 299$/);
    expect(refuse('steps=300', 'seed_steps=299')).toBe('accepted');
    // Likewise the steps at which a small utd_ratio earns its first update (110 here) fill a batch.
    expect(refuse('algo=bmpc', 'steps=105', 'seed_steps=100', 'utd_ratio=0.1')).toMatch(/or steps to at least 253, or set pretrain_updates above 0$/);
    expect(refuse('algo=bmpc', 'steps=253', 'seed_steps=100', 'utd_ratio=0.1')).toBe('accepted');
    expect(refuse('algo=bmpc', 'steps=105', 'seed_steps=100', 'utd_ratio=0.1', 'batch_size=16')).toMatch(/or steps to at least 110, or set pretrain_updates above 0$/);
    expect(refuse('algo=bmpc', 'steps=110', 'seed_steps=100', 'utd_ratio=0.1', 'batch_size=16')).toBe('accepted');
  });

  it('refuses a fresh run whose utd_ratio earns no update after seeding and that has no pretraining burst', () => {
    const check = (...args: string[]) => {
      const cfg = loadConfig(args);
      checkLearningPhase(cfg, deriveConfig(cfg, cartpole));
    };
    expect(() => check('steps=3000', 'utd_ratio=0', 'pretrain_updates=0')).toThrow(
      'utd_ratio=0 earns no update over the 500 steps after seeding, and pretrain_updates=0 adds no pretraining burst, so the run would save an untrained agent; raise utd_ratio (TD-MPC2 uses 1), or set pretrain_updates above 0');
    // bmpc's preset has no burst; 500 learning steps at 1/1000 earn none, 1000 earn one.
    expect(() => check('algo=bmpc', 'steps=3000', 'utd_ratio=0.001')).toThrow(
      /^utd_ratio=0.001 earns no update over the 500 steps after seeding, and pretrain_updates=0 adds no pretraining burst, .*raise utd_ratio \(TD-MPC2 uses 1\) or steps to at least 3500, or set pretrain_updates above 0$/);
    expect(() => check('algo=bmpc', 'steps=3500', 'utd_ratio=0.001')).not.toThrow();
    // Whole vector steps of 3 envs: seeding ends at 2502; 0.1 x 3 per vector step earns one at 2502 + 12.
    expect(() => check('algo=bmpc', 'steps=2511', 'utd_ratio=0.1', 'num_envs=3', 'runtime=sync')).toThrow(/or steps to at least 2514,/);
    expect(() => check('algo=bmpc', 'steps=2514', 'utd_ratio=0.1', 'num_envs=3', 'runtime=sync')).not.toThrow();
    // A pretraining burst is an update: utd_ratio=0 then trains on the seed data only.
    expect(() => check('steps=3000', 'utd_ratio=0')).not.toThrow();
    expect(() => check('steps=3000', 'utd_ratio=0', 'pretrain_updates=0', 'resume=x.ckpt')).not.toThrow();
  });

  it('refuses a reversed lower/upper bound pair, naming both keys (it used to clamp to the upper one, or say logStdMin)', () => {
    const derive = (...args: string[]) => deriveConfig(loadConfig(args), cartpole);
    expect(() => derive('min_std=2', 'max_std=0.05')).toThrow(
      "min_std=2 and max_std=0.05 bound the planner's sampling std from both sides, so min_std must be <= max_std; swap them or change one");
    expect(() => derive('max_std=0')).toThrow(/^min_std=0.05 and max_std=0 bound /);
    expect(() => derive('discount_min=0.99', 'discount_max=0.9')).toThrow(/^discount_min=0.99 and discount_max=0.9 bound the discount derived from the episode length from both sides, so discount_min must be <= discount_max/);
    expect(() => derive('vmin=0', 'vmax=0')).toThrow(/^vmin=0 and vmax=0 bound the symlog range of the two-hot reward and value bins from both sides, so vmin must be < vmax/);
    expect(() => derive('algo=bmpc', 'log_std_min=2')).toThrow(/^log_std_min=2 and log_std_max=1 bound the policy's log std from both sides, so log_std_min must be < log_std_max/);
    // Equal bounds are a fixed value where that means something.
    expect(derive('min_std=0.5', 'max_std=0.5').discount).toBeGreaterThan(0);
    expect(derive('discount_min=0.9', 'discount_max=0.9').discount).toBeCloseTo(0.9, 6);
  });
});
