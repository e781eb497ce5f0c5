// 21-DoF humanoid (dm_control suite `humanoid`), written for this project from the suite's
// physical description. The body tree (and so the qpos/qvel/actuator order) is:
//   torso (free joint) → head
//                      → lower_waist (abdomen_z, abdomen_y) → pelvis (abdomen_x) → right leg, left leg
//                      → right arm, left arm
// Legs and arms are generated from one description per limb, mirrored in y (`s` = -1 right,
// +1 left); joint axes and ranges are not simple mirrors in the suite, so they are listed per side.
// Only what affects dynamics is kept, including every sensor and the touch-sensor site volumes;
// cameras, lights and materials are dropped. tests/envs-locomotion.test.ts compares it against
// the original.
import type { ModelSource } from '../physics.js';

type Side = 'right' | 'left';

/** Formats a vector for MJCF. */
function v(...xs: number[]): string {
  return xs.map((x) => (Object.is(x, -0) ? 0 : x)).join(' ');
}

/** Per-side joint data that is not a mirror image of the other side. */
const LEG_JOINTS: Record<Side, { hipX: string; hipZ: string; hipYRange: string }> = {
  right: { hipX: '1 0 0', hipZ: '0 0 1', hipYRange: '-110 20' },
  left: { hipX: '-1 0 0', hipZ: '0 0 -1', hipYRange: '-120 20' },
};

const ARM_JOINTS: Record<Side, { shoulder1: string; shoulder2: string; shoulderRange: string; elbow: string }> = {
  right: { shoulder1: '2 1 1', shoulder2: '0 -1 1', shoulderRange: '-85 60', elbow: '0 -1 1' },
  left: { shoulder1: '2 -1 1', shoulder2: '0 1 1', shoulderRange: '-60 85', elbow: '0 -1 -1' },
};

function otherSide(side: Side): Side {
  return side === 'right' ? 'left' : 'right';
}

/**
 * The foot is two thin capsules, the outer one (named `${side}_${side}_foot`) first, then the inner
 * one (`${other}_${side}_foot`), each with a touch site. Sites are listed in increasing y, as in the
 * suite, so site ids match the original on both sides.
 */
function footXml(side: Side, s: number): string {
  const other = otherSide(side);
  const outerSite = `<site name="${side}_${side}_foot" class="touch" pos="${v(0.035, s * 0.03, 0)}" size=".03 .11" zaxis="${v(21, s * 2, 0)}"/>`;
  const innerSite = `<site name="${other}_${side}_foot" class="touch" pos="${v(0.035, -s * 0.01, 0)}" size=".03 .11" zaxis="${v(21, -s * 2, 0)}"/>`;
  const sites = s < 0 ? [outerSite, innerSite] : [innerSite, outerSite];
  return `<geom name="${side}_${side}_foot" fromto="${v(-0.07, s * 0.02, 0, 0.14, s * 0.04, 0)}" size=".027"/>
                <geom name="${other}_${side}_foot" fromto="${v(-0.07, 0, 0, 0.14, -s * 0.02, 0)}" size=".027"/>
                ${sites.join('\n                ')}`;
}

function legXml(side: Side): string {
  const s = side === 'right' ? -1 : 1;
  const j = LEG_JOINTS[side];
  return `<body name="${side}_thigh" pos="${v(0, s * 0.1, -0.04)}">
            <site name="${side}_hip" class="force-torque"/>
            <joint name="${side}_hip_x" axis="${j.hipX}" range="-25 5" class="big_joint"/>
            <joint name="${side}_hip_z" axis="${j.hipZ}" range="-60 35" class="big_joint"/>
            <joint name="${side}_hip_y" axis="0 1 0" range="${j.hipYRange}" class="big_stiff_joint"/>
            <geom name="${side}_thigh" fromto="${v(0, 0, 0, 0, -s * 0.01, -0.34)}" size=".06"/>
            <site name="${side}_thigh" class="touch" pos="${v(0, -s * 0.005, -0.17)}" size=".061 .17" zaxis="${v(0, s, 34)}"/>
            <body name="${side}_shin" pos="${v(0, -s * 0.01, -0.403)}">
              <site name="${side}_knee" class="force-torque" pos="0 0 .02"/>
              <joint name="${side}_knee" pos="0 0 .02" axis="0 -1 0" range="-160 2"/>
              <geom name="${side}_shin" fromto="0 0 0 0 0 -.3" size=".049"/>
              <site name="${side}_shin" class="touch" pos="0 0 -.15" size=".05 .15"/>
              <body name="${side}_foot" pos="0 0 -.39">
                <site name="${side}_ankle" class="force-torque"/>
                <joint name="${side}_ankle_y" pos="0 0 .08" axis="0 1 0" range="-50 50" stiffness="6"/>
                <joint name="${side}_ankle_x" pos="0 0 .04" axis="1 0 .5" range="-50 50" stiffness="3"/>
                ${footXml(side, s)}
              </body>
            </body>
          </body>`;
}

function armXml(side: Side): string {
  const s = side === 'right' ? -1 : 1;
  const j = ARM_JOINTS[side];
  return `<body name="${side}_upper_arm" pos="${v(0, s * 0.17, 0.06)}">
        <joint name="${side}_shoulder1" axis="${j.shoulder1}" range="${j.shoulderRange}"/>
        <joint name="${side}_shoulder2" axis="${j.shoulder2}" range="${j.shoulderRange}"/>
        <geom name="${side}_upper_arm" fromto="${v(0, 0, 0, 0.16, s * 0.16, -0.16)}" size=".04 .16"/>
        <site name="${side}_upper_arm" class="touch" pos="${v(0.08, s * 0.08, -0.08)}" size=".041 .14" zaxis="${v(1, s, -1)}"/>
        <body name="${side}_lower_arm" pos="${v(0.18, s * 0.18, -0.18)}">
          <joint name="${side}_elbow" axis="${j.elbow}" range="-90 50" stiffness="0"/>
          <geom name="${side}_lower_arm" fromto="${v(0.01, -s * 0.01, 0.01, 0.17, -s * 0.17, 0.17)}" size=".031"/>
          <site name="${side}_lower_arm" class="touch" pos="${v(0.09, -s * 0.09, 0.09)}" size=".032 .14" zaxis="${v(1, -s, 1)}"/>
          <body name="${side}_hand" pos="${v(0.18, -s * 0.18, 0.18)}">
            <geom name="${side}_hand" type="sphere" size=".04"/>
            <site name="${side}_hand" class="touch" type="sphere" size=".041"/>
          </body>
        </body>
      </body>`;
}

/** Motors in actuator order (this order defines the 21-dim action vector) with their gears. */
const MOTORS: Array<[string, number]> = [
  ['abdomen_y', 40], ['abdomen_z', 40], ['abdomen_x', 40],
  ['right_hip_x', 40], ['right_hip_z', 40], ['right_hip_y', 120], ['right_knee', 80], ['right_ankle_x', 20], ['right_ankle_y', 20],
  ['left_hip_x', 40], ['left_hip_z', 40], ['left_hip_y', 120], ['left_knee', 80], ['left_ankle_x', 20], ['left_ankle_y', 20],
  ['right_shoulder1', 20], ['right_shoulder2', 20], ['right_elbow', 40],
  ['left_shoulder1', 20], ['left_shoulder2', 20], ['left_elbow', 40],
];

/** Sensors in sensordata order (the suite's order). */
function sensorsXml(): string {
  const lines = [
    '<subtreelinvel name="torso_subtreelinvel" body="torso"/>',
    '<accelerometer name="torso_accel" site="root"/>',
    '<velocimeter name="torso_vel" site="root"/>',
    '<gyro name="torso_gyro" site="root"/>',
  ];
  const joints = ['ankle', 'knee', 'hip'];
  for (const kind of ['force', 'torque']) {
    for (const joint of joints) {
      for (const side of ['left', 'right']) lines.push(`<${kind} name="${side}_${joint}_${kind}" site="${side}_${joint}"/>`);
    }
  }
  const touchSites = [
    'torso', 'head', 'lower_waist', 'butt',
    'right_thigh', 'right_shin', 'right_right_foot', 'left_right_foot',
    'left_thigh', 'left_shin', 'right_left_foot', 'left_left_foot',
    'right_upper_arm', 'right_lower_arm', 'right_hand',
    'left_upper_arm', 'left_lower_arm', 'left_hand',
  ];
  for (const site of touchSites) lines.push(`<touch name="${site}_touch" site="${site}"/>`);
  return lines.join('\n    ');
}

export const HUMANOID_XML = `<mujoco model="humanoid">
  <option timestep=".005"/>
  <default>
    <motor ctrlrange="-1 1" ctrllimited="true"/>
    <default class="body">
      <!-- condim 1: frictionless-in-torsion point contacts; soft, slightly damped contact. -->
      <geom type="capsule" condim="1" friction=".7" solimp=".9 .99 .003" solref=".015 1"/>
      <joint type="hinge" damping=".2" stiffness="1" armature=".01" limited="true" solimplimit="0 .99 .01"/>
      <default class="big_joint">
        <joint damping="5" stiffness="10"/>
        <default class="big_stiff_joint">
          <joint stiffness="20"/>
        </default>
      </default>
      <site size=".04"/>
      <default class="force-torque">
        <site type="box" size=".01 .01 .02"/>
      </default>
      <!-- Touch sensors sum the normal forces of contacts inside these site volumes. -->
      <default class="touch">
        <site type="capsule"/>
      </default>
    </default>
  </default>
  <worldbody>
    <geom name="floor" type="plane" conaffinity="1" size="100 100 .2"/>
    <body name="torso" pos="0 0 1.5" childclass="body">
      <freejoint name="root"/>
      <site name="root" class="force-torque"/>
      <geom name="torso" fromto="0 -.07 0 0 .07 0" size=".07"/>
      <geom name="upper_waist" fromto="-.01 -.06 -.12 -.01 .06 -.12" size=".06"/>
      <site name="torso" class="touch" type="box" pos="0 0 -.05" size=".075 .14 .13"/>
      <body name="head" pos="0 0 .19">
        <geom name="head" type="sphere" size=".09"/>
        <site name="head" class="touch" type="sphere" size=".091"/>
      </body>
      <body name="lower_waist" pos="-.01 0 -.260" quat="1.000 0 -.002 0">
        <geom name="lower_waist" fromto="0 -.06 0 0 .06 0" size=".06"/>
        <site name="lower_waist" class="touch" size=".061 .06" zaxis="0 1 0"/>
        <joint name="abdomen_z" pos="0 0 .065" axis="0 0 1" range="-45 45" class="big_stiff_joint"/>
        <joint name="abdomen_y" pos="0 0 .065" axis="0 1 0" range="-75 30" class="big_joint"/>
        <body name="pelvis" pos="0 0 -.165" quat="1.000 0 -.002 0">
          <joint name="abdomen_x" pos="0 0 .1" axis="1 0 0" range="-35 35" class="big_joint"/>
          <geom name="butt" fromto="-.02 -.07 0 -.02 .07 0" size=".09"/>
          <site name="butt" class="touch" size=".091 .07" pos="-.02 0 0" zaxis="0 1 0"/>
          ${legXml('right')}
          ${legXml('left')}
        </body>
      </body>
      ${armXml('right')}
      ${armXml('left')}
    </body>
  </worldbody>
  <actuator>
    ${MOTORS.map(([joint, gear]) => `<motor name="${joint}" gear="${gear}" joint="${joint}"/>`).join('\n    ')}
  </actuator>
  <sensor>
    ${sensorsXml()}
  </sensor>
</mujoco>
`;

export function humanoidModel(): ModelSource {
  return { xml: HUMANOID_XML, name: 'humanoid.xml' };
}
