// Planar one-legged hopper (dm_control suite `hopper`), written for this project from the suite's
// physical description: torso with planar root DoFs (x slide, z slide, pitch hinge), then a chain
// pelvis → thigh → calf → foot, with touch sensors at the toe and heel ends of the foot. Only what
// affects dynamics is kept; cameras, lights and materials are dropped.
// tests/envs-locomotion.test.ts compares it against the original.
import type { ModelSource } from '../physics.js';

/** Leg chain below the torso, root to tip. Capsules run from the body origin to `geomTo`. */
const LINKS: Array<{ name: string; joint: string; pos: string; range: string; geomFromTo: string; radius: string }> = [
  { name: 'pelvis', joint: 'waist', pos: '0 0 -.05', range: '-30 30', geomFromTo: '0 0 0 0 0 -.15', radius: '0.065' },
  { name: 'thigh', joint: 'hip', pos: '0 0 -.2', range: '-170 10', geomFromTo: '0 0 0 0 0 -.33', radius: '0.04' },
  { name: 'calf', joint: 'knee', pos: '0 0 -.33', range: '5 150', geomFromTo: '0 0 0 0 0 -.32', radius: '0.03' },
  { name: 'foot', joint: 'ankle', pos: '0 0 -.32', range: '-45 45', geomFromTo: '-.08 0 0 .17 0 0', radius: '0.04' },
];

function chainXml(index: number): string {
  const link = LINKS[index];
  if (link === undefined) return '';
  // The touch sites are spheres (r = 5 cm) centred on the foot capsule's ends: a contact counts
  // for a sensor when it lies inside its site volume.
  const touchSites = link.name === 'foot'
    ? `<site name="touch_toe" pos=".17 0 0"/>
        <site name="touch_heel" pos="-.08 0 0"/>`
    : '';
  return `<body name="${link.name}" pos="${link.pos}">
        <joint name="${link.joint}" range="${link.range}"/>
        <geom name="${link.name}" fromto="${link.geomFromTo}" size="${link.radius}"/>
        ${touchSites}
        ${chainXml(index + 1)}
      </body>`;
}

/** Motor gears in actuator order (this order defines the action vector). */
const MOTOR_GEARS: Array<[string, number]> = [['waist', 30], ['hip', 40], ['knee', 30], ['ankle', 10]];

export const HOPPER_XML = `<mujoco model="planar hopper">
  <option timestep="0.005"/>
  <default>
    <default class="hopper">
      <joint type="hinge" axis="0 1 0" limited="true" damping=".05" armature=".2"/>
      <geom type="capsule"/>
      <site type="sphere" size="0.05"/>
    </default>
    <default class="free">
      <joint limited="false" damping="0" armature="0" stiffness="0"/>
    </default>
    <motor ctrlrange="-1 1" ctrllimited="true"/>
  </default>
  <worldbody>
    <geom name="floor" type="plane" conaffinity="1" pos="48 0 0" size="50 1 .2"/>
    <body name="torso" pos="0 0 1" childclass="hopper">
      <joint name="rootx" type="slide" axis="1 0 0" class="free"/>
      <joint name="rootz" type="slide" axis="0 0 1" class="free"/>
      <joint name="rooty" type="hinge" axis="0 1 0" class="free"/>
      <geom name="torso" fromto="0 0 -.05 0 0 .2" size="0.0653"/>
      <geom name="nose" fromto=".08 0 .13 .15 0 .14" size="0.03"/>
      ${chainXml(0)}
    </body>
  </worldbody>
  <sensor>
    <subtreelinvel name="torso_subtreelinvel" body="torso"/>
    <touch name="touch_toe" site="touch_toe"/>
    <touch name="touch_heel" site="touch_heel"/>
  </sensor>
  <actuator>
    ${MOTOR_GEARS.map(([joint, gear]) => `<motor name="${joint}" joint="${joint}" gear="${gear}"/>`).join('\n    ')}
  </actuator>
</mujoco>
`;

export function hopperModel(): ModelSource {
  return { xml: HOPPER_XML, name: 'hopper.xml' };
}
