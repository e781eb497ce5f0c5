// Quadruped (dm_control suite `quadruped`), written for this project from the suite's physical
// description, in the configuration its walk and run tasks use. dm_control builds those from the
// full model (quadruped.make_model) by resizing the floor to time_limit · speed and removing the
// arena walls, the ball, the target, the terrain heightfield and the rangefinder sensors, so none
// of these exist here (they only serve the escape and fetch tasks). Cameras, lights, materials and
// the visual-only sites (eyes' pupils, workspace, rangefinder rays) are dropped too.
//
// Body: an ellipsoid torso on a free joint with four 3-link legs (hip with yaw and pitch, knee,
// ankle) ending in a spherical toe. Each leg is driven by three position-like actuators with a
// first-order activation filter (so the model has act, na = 12): yaw on the hip-yaw joint, and
// "lift" and "extend" on fixed tendons mixing pitch, knee and ankle. An equality constraint on a
// third tendon couples pitch + knee + ankle, leaving two free DoFs per leg for lift/extend.
// tests/envs-locomotion.test.ts compares it against the original.
import type { ModelSource } from '../physics.js';

/** Legs in the suite's order (this order fixes joint, tendon, actuator and sensor order). */
const LEGS: Array<{ name: string; pos: string; yawDegrees: number }> = [
  { name: 'front_left', pos: '.2 .2 0', yawDegrees: 45 },
  { name: 'front_right', pos: '.2 -.2 0', yawDegrees: -45 },
  { name: 'back_right', pos: '-.2 -.2 0', yawDegrees: -135 },
  { name: 'back_left', pos: '-.2 .2 0', yawDegrees: 135 },
];

/** One leg; its frame is rotated about z so that every leg extends along its local +x. */
function legXml(leg: { name: string; pos: string; yawDegrees: number }): string {
  const n = leg.name;
  return `<body name="hip_${n}" pos="${leg.pos}" euler="0 0 ${leg.yawDegrees}" childclass="hip">
        <joint name="yaw_${n}" class="yaw"/>
        <joint name="pitch_${n}" class="pitch"/>
        <geom name="thigh_${n}"/>
        <body name="knee_${n}" pos=".3 0 .11" childclass="knee">
          <joint name="knee_${n}"/>
          <geom name="shin_${n}"/>
          <body name="ankle_${n}" pos=".25 0 -.25" childclass="ankle">
            <joint name="ankle_${n}"/>
            <geom name="foot_${n}"/>
            <body name="toe_${n}" pos="0 0 -.3" childclass="toe">
              <geom name="toe_${n}"/>
              <site name="toe_${n}"/>
            </body>
          </body>
        </body>
      </body>`;
}

/** Fixed tendons: the four coupling tendons first, then extend/lift per leg (the suite's order). */
function tendonsXml(): string {
  const lines: string[] = [];
  for (const { name: n } of LEGS) {
    lines.push(`<fixed name="coupling_${n}">
      <joint joint="pitch_${n}" coef=".333"/>
      <joint joint="knee_${n}" coef=".333"/>
      <joint joint="ankle_${n}" coef=".333"/>
    </fixed>`);
  }
  for (const { name: n } of LEGS) {
    lines.push(`<fixed name="extend_${n}">
      <joint joint="pitch_${n}" coef=".25"/>
      <joint joint="knee_${n}" coef="-.5"/>
      <joint joint="ankle_${n}" coef=".25"/>
    </fixed>
    <fixed name="lift_${n}">
      <joint joint="pitch_${n}" coef=".5"/>
      <joint joint="ankle_${n}" coef="-.5"/>
    </fixed>`);
  }
  return lines.join('\n    ');
}

/** Actuators per leg: yaw (joint), lift (tendon), extend (tendon) — the 12-dim action order. */
function actuatorsXml(): string {
  const lines: string[] = [];
  for (const { name: n } of LEGS) {
    lines.push(`<general name="yaw_${n}" class="yaw_act" joint="yaw_${n}"/>`);
    lines.push(`<general name="lift_${n}" class="lift_act" tendon="lift_${n}"/>`);
    lines.push(`<general name="extend_${n}" class="extend_act" tendon="extend_${n}"/>`);
  }
  return lines.join('\n    ');
}

/** Sensors in sensordata order: IMU, torso velocimeter, toe force then toe torque, centre of mass. */
function sensorsXml(): string {
  const lines = [
    '<accelerometer name="imu_accel" site="torso"/>',
    '<gyro name="imu_gyro" site="torso"/>',
    '<velocimeter name="velocimeter" site="torso"/>',
  ];
  for (const { name: n } of LEGS) lines.push(`<force name="force_toe_${n}" site="toe_${n}"/>`);
  for (const { name: n } of LEGS) lines.push(`<torque name="torque_toe_${n}" site="toe_${n}"/>`);
  lines.push('<subtreecom name="center_of_mass" body="torso"/>');
  return lines.join('\n    ');
}

/**
 * The walk/run model with a square floor of half-size `floorSize` metres (dm_control uses
 * time_limit · desired_speed: 10 for walk, 100 for run). Planes collide as infinite planes in
 * MuJoCo, so the size only matters for rendering, but it is kept for fidelity.
 */
export function quadrupedXml(floorSize: number): string {
  return `<mujoco model="quadruped">
  <option timestep=".005"/>
  <default>
    <geom solimp=".9 .99 .003" solref=".01 1"/>
    <default class="body">
      <geom type="capsule" size=".08" condim="1" density="500"/>
      <joint type="hinge" damping="30" armature=".01" limited="true" solimplimit="0 .99 .01"/>
      <default class="hip">
        <default class="yaw">
          <joint axis="0 0 1" range="-50 50"/>
        </default>
        <default class="pitch">
          <joint axis="0 1 0" range="-20 60"/>
        </default>
        <geom fromto="0 0 0 .3 0 .11"/>
      </default>
      <default class="knee">
        <joint axis="0 1 0" range="-60 50"/>
        <geom size=".065" fromto="0 0 0 .25 0 -.25"/>
      </default>
      <default class="ankle">
        <joint axis="0 1 0" range="-45 55"/>
        <geom size=".055" fromto="0 0 0 0 0 -.25"/>
      </default>
      <default class="toe">
        <!-- High-friction feet. The toe site (force/torque sensors) is slightly larger. -->
        <geom type="sphere" size=".08" friction="1.5"/>
        <site type="sphere" size=".084"/>
      </default>
    </default>
    <default class="coupling">
      <equality solimp="0.95 0.99 0.01" solref=".005 .5"/>
    </default>
    <!-- Position servos through a 0.1 s activation filter: force = 1000 · (act - length). -->
    <general ctrllimited="true" gainprm="1000" biasprm="0 -1000" biastype="affine" dyntype="filter" dynprm=".1"/>
    <default class="yaw_act">
      <general ctrlrange="-1 1"/>
    </default>
    <default class="lift_act">
      <general ctrlrange="-1 1.1"/>
    </default>
    <default class="extend_act">
      <general ctrlrange="-.8 .8"/>
    </default>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="${floorSize} ${floorSize} .5"/>
    <body name="torso" childclass="body" pos="0 0 .57">
      <freejoint name="root"/>
      <!-- The eyes are massless but still collide. -->
      <geom name="eye_r" type="cylinder" size=".05" fromto=".1 -.07 .12 .31 -.07 .08" mass="0"/>
      <geom name="eye_l" type="cylinder" size=".05" fromto=".1 .07 .12 .31 .07 .08" mass="0"/>
      <geom name="torso" type="ellipsoid" size=".3 .27 .2" density="1000"/>
      <site name="torso" size=".05"/>
      ${LEGS.map(legXml).join('\n      ')}
    </body>
  </worldbody>
  <tendon>
    ${tendonsXml()}
  </tendon>
  <equality>
    ${LEGS.map(({ name: n }) => `<tendon name="coupling_${n}" tendon1="coupling_${n}" class="coupling"/>`).join('\n    ')}
  </equality>
  <actuator>
    ${actuatorsXml()}
  </actuator>
  <sensor>
    ${sensorsXml()}
  </sensor>
</mujoco>
`;
}

export function quadrupedModel(floorSize: number): ModelSource {
  return { xml: quadrupedXml(floorSize), name: 'quadruped.xml' };
}
