// Planar half-cheetah (dm_control suite `cheetah`), written for this project from the suite's
// physical description: a torso with three planar root DoFs (x slide, z slide, pitch hinge) and two
// 3-link legs. Only what affects dynamics is kept (masses come from geoms scaled by settotalmass,
// joint stiffness/damping/armature/ranges, contact friction, motor gears); cameras, lights and
// materials are dropped. tests/envs-locomotion.test.ts compares it against the original.
import type { ModelSource } from '../physics.js';

/** One leg joint: its hinge (axis y, inherited from the class) plus the capsule of its link. */
interface CheetahLink {
  name: string;
  bodyPos: string;
  /** Degrees, as the suite writes them (compiler angle="degree" is MuJoCo's default). */
  range: string;
  stiffness: number;
  damping: number;
  geomPos: string;
  geomEuler: string;
  /** Capsule radius and half-length. */
  geomSize: string;
}

// Each leg is a chain thigh → shin → foot, listed root to tip.
const BACK_LEG: CheetahLink[] = [
  { name: 'bthigh', bodyPos: '-.5 0 0', range: '-30 60', stiffness: 240, damping: 6, geomPos: '.1 0 -.13', geomEuler: '0 -218 0', geomSize: '0.046 .145' },
  { name: 'bshin', bodyPos: '.16 0 -.25', range: '-50 50', stiffness: 180, damping: 4.5, geomPos: '-.14 0 -.07', geomEuler: '0 -116 0', geomSize: '0.046 .15' },
  { name: 'bfoot', bodyPos: '-.28 0 -.14', range: '-230 50', stiffness: 120, damping: 3, geomPos: '.03 0 -.097', geomEuler: '0 -15 0', geomSize: '0.046 .094' },
];
const FRONT_LEG: CheetahLink[] = [
  { name: 'fthigh', bodyPos: '.5 0 0', range: '-57 .40', stiffness: 180, damping: 4.5, geomPos: '-.07 0 -.12', geomEuler: '0 30 0', geomSize: '0.046 .133' },
  { name: 'fshin', bodyPos: '-.14 0 -.24', range: '-70 50', stiffness: 120, damping: 3, geomPos: '.065 0 -.09', geomEuler: '0 -34 0', geomSize: '0.046 .106' },
  { name: 'ffoot', bodyPos: '.13 0 -.18', range: '-28 28', stiffness: 60, damping: 1.5, geomPos: '.045 0 -.07', geomEuler: '0 -34 0', geomSize: '0.046 .07' },
];

/** Nested bodies for one leg chain (each link is the child of the previous one). */
function legXml(links: CheetahLink[]): string {
  if (links.length === 0) return '';
  const [link, ...rest] = links as [CheetahLink, ...CheetahLink[]];
  return `<body name="${link.name}" pos="${link.bodyPos}">
  <joint name="${link.name}" range="${link.range}" stiffness="${link.stiffness}" damping="${link.damping}"/>
  <geom name="${link.name}" type="capsule" pos="${link.geomPos}" euler="${link.geomEuler}" size="${link.geomSize}"/>
  ${legXml(rest)}
</body>`;
}

/** Motor gears in actuator order (this order defines the action vector). */
const MOTOR_GEARS: Array<[string, number]> = [
  ['bthigh', 120], ['bshin', 90], ['bfoot', 60], ['fthigh', 90], ['fshin', 60], ['ffoot', 30],
];

export const CHEETAH_XML = `<mujoco model="cheetah">
  <!-- The suite fixes the total mass; geom densities are rescaled to reach it. -->
  <compiler settotalmass="14"/>
  <option timestep="0.01"/>
  <default>
    <default class="cheetah">
      <joint limited="true" damping=".01" armature=".1" stiffness="8" type="hinge" axis="0 1 0"/>
      <geom contype="1" conaffinity="1" condim="3" friction=".4 .1 .1"/>
    </default>
    <default class="free">
      <joint limited="false" damping="0" armature="0" stiffness="0"/>
    </default>
    <motor ctrllimited="true" ctrlrange="-1 1"/>
  </default>
  <worldbody>
    <geom name="ground" type="plane" conaffinity="1" pos="98 0 0" size="100 .8 .5"/>
    <body name="torso" pos="0 0 .7" childclass="cheetah">
      <joint name="rootx" type="slide" axis="1 0 0" class="free"/>
      <joint name="rootz" type="slide" axis="0 0 1" class="free"/>
      <joint name="rooty" type="hinge" axis="0 1 0" class="free"/>
      <geom name="torso" type="capsule" fromto="-.5 0 0 .5 0 0" size="0.046"/>
      <geom name="head" type="capsule" pos=".6 0 .1" euler="0 50 0" size="0.046 .15"/>
      ${legXml(BACK_LEG)}
      ${legXml(FRONT_LEG)}
    </body>
  </worldbody>
  <sensor>
    <subtreelinvel name="torso_subtreelinvel" body="torso"/>
  </sensor>
  <actuator>
    ${MOTOR_GEARS.map(([joint, gear]) => `<motor name="${joint}" joint="${joint}" gear="${gear}"/>`).join('\n    ')}
  </actuator>
</mujoco>
`;

export function cheetahModel(): ModelSource {
  return { xml: CHEETAH_XML, name: 'cheetah.xml' };
}
