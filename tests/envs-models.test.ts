// Built-in models of the simple domains against the original dm_control XML (table-driven; the
// locomotion rows live in their own test file and reuse tests/helpers/compare-models.ts).
import { defineModelComparisons } from './helpers/compare-models.js';
import { cartpoleModel } from '../src/envs/models/cartpole.js';
import { pendulumModel } from '../src/envs/models/pendulum.js';
import { acrobotModel } from '../src/envs/models/acrobot.js';
import { reacherModel } from '../src/envs/models/reacher.js';
import { fingerModel } from '../src/envs/models/finger.js';
import { pointMassModel } from '../src/envs/models/point-mass.js';
import { ballInCupModel } from '../src/envs/models/ball-in-cup.js';

defineModelComparisons([
  { name: 'cartpole', original: 'cartpole.xml', builtin: cartpoleModel },
  { name: 'pendulum', original: 'pendulum.xml', builtin: pendulumModel },
  { name: 'acrobot', original: 'acrobot.xml', builtin: acrobotModel },
  { name: 'reacher', original: 'reacher.xml', builtin: reacherModel },
  {
    name: 'finger',
    original: 'finger.xml',
    builtin: fingerModel,
    expectContacts: true,
    // Finger bent toward the spinner, which is turned sideways: the tip hits it within ~10 steps.
    initialState: (p) => {
      p.qpos.set([-0.5, 0, Math.PI / 2]);
    },
  },
  { name: 'point_mass', original: 'point_mass.xml', builtin: pointMassModel },
  {
    name: 'ball_in_cup',
    original: 'ball_in_cup.xml',
    builtin: ballInCupModel,
    expectContacts: true,
    // Ball dropped just above the cup's floor, so it lands in the cup and rolls against the walls.
    initialState: (p) => {
      p.qpos.set([0, 0, 0.01, 0.33]);
    },
  },
]);
