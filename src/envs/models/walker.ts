// Planar biped (dm_control suite `walker`), written for this project from the suite's physical
// description: a capsule torso with planar root DoFs (z slide, x slide, pitch hinge) and two
// identical 3-link legs offset ±5 cm in y. Only what affects dynamics is kept; cameras, lights
// and materials are dropped. tests/envs-locomotion.test.ts compares it against the original.
import type { ModelSource } from '../physics.js';

/** One leg; `side` is "right" (y = -.05) or "left" (y = +.05). Bodies: thigh → leg → foot. */
function legXml(side: 'right' | 'left'): string {
  const y = side === 'right' ? '-.05' : '.05';
  return `<body name="${side}_thigh" pos="0 ${y} -0.3">
        <joint name="${side}_hip" range="-20 100"/>
        <geom name="${side}_thigh" pos="0 0 -0.225" size="0.05 0.225"/>
        <body name="${side}_leg" pos="0 0 -0.7">
          <joint name="${side}_knee" pos="0 0 0.25" range="-150 0"/>
          <geom name="${side}_leg" size="0.04 0.25"/>
          <body name="${side}_foot" pos="0.06 0 -0.25">
            <joint name="${side}_ankle" pos="-0.06 0 0" range="-45 45"/>
            <geom name="${side}_foot" zaxis="1 0 0" size="0.05 0.1"/>
          </body>
        </body>
      </body>`;
}

/** Motor gears per leg joint; actuators are all right-leg joints, then all left-leg joints. */
const LEG_GEARS: Array<[string, number]> = [['hip', 100], ['knee', 50], ['ankle', 20]];

function motorsXml(): string {
  const lines: string[] = [];
  for (const side of ['right', 'left']) {
    for (const [joint, gear] of LEG_GEARS) {
      lines.push(`<motor name="${side}_${joint}" joint="${side}_${joint}" gear="${gear}"/>`);
    }
  }
  return lines.join('\n    ');
}

export const WALKER_XML = `<mujoco model="planar walker">
  <option timestep="0.0025"/>
  <default>
    <!-- Soft joint limits (solimplimit d0 = 0) as in the suite. -->
    <joint damping=".1" armature="0.01" limited="true" solimplimit="0 .99 .01"/>
    <!-- Only the floor has conaffinity, so the legs never collide with each other. -->
    <geom contype="1" conaffinity="0" friction=".7 .1 .1"/>
    <motor ctrlrange="-1 1" ctrllimited="true"/>
    <default class="walker">
      <geom type="capsule"/>
      <!-- Axis -y: positive hip angle swings the leg forward. -->
      <joint axis="0 -1 0"/>
    </default>
  </default>
  <worldbody>
    <geom name="floor" type="plane" conaffinity="1" pos="248 0 0" size="250 .8 .2" zaxis="0 0 1"/>
    <body name="torso" pos="0 0 1.3" childclass="walker">
      <joint name="rootz" axis="0 0 1" type="slide" limited="false" armature="0" damping="0"/>
      <joint name="rootx" axis="1 0 0" type="slide" limited="false" armature="0" damping="0"/>
      <joint name="rooty" axis="0 1 0" type="hinge" limited="false" armature="0" damping="0"/>
      <geom name="torso" size="0.07 0.3"/>
      ${legXml('right')}
      ${legXml('left')}
    </body>
  </worldbody>
  <sensor>
    <subtreelinvel name="torso_subtreelinvel" body="torso"/>
  </sensor>
  <actuator>
    ${motorsXml()}
  </actuator>
</mujoco>
`;

export function walkerModel(): ModelSource {
  return { xml: WALKER_XML, name: 'walker.xml' };
}
