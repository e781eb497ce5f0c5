// Reacher (dm_control suite "reacher", physically equal; visuals omitted): a planar two-link arm
// (0.12 m and 0.1 m capsules of radius 0.01 at water density, a 0.01 m fingertip sphere), hinges
// about z with damping 0.01, the wrist limited to ±160°, two motors with gear 0.05. Euler at 20 ms,
// no contacts. The world geom 'target' is moved by the task at each episode start.
import type { ModelSource } from '../physics.js';

export const REACHER_XML = `<mujoco model="reacher">
  <compiler angle="degree"/>
  <option timestep="0.02">
    <flag contact="disable"/>
  </option>
  <worldbody>
    <geom name="ground" type="plane" size="0.3 0.3 10"/>
    <geom name="root" type="cylinder" fromto="0 0 0 0 0 0.02" size="0.011"/>
    <body name="arm" pos="0 0 0.01">
      <geom name="arm" type="capsule" fromto="0 0 0 0.12 0 0" size="0.01"/>
      <joint name="shoulder" type="hinge" axis="0 0 1" damping="0.01"/>
      <body name="hand" pos="0.12 0 0">
        <geom name="hand" type="capsule" fromto="0 0 0 0.1 0 0" size="0.01"/>
        <joint name="wrist" type="hinge" axis="0 0 1" damping="0.01" limited="true" range="-160 160"/>
        <body name="finger" pos="0.12 0 0">
          <geom name="finger" type="sphere" size="0.01"/>
        </body>
      </body>
    </body>
    <geom name="target" type="sphere" pos="0 0 0.01" size="0.05"/>
  </worldbody>
  <actuator>
    <motor name="shoulder" joint="shoulder" gear="0.05" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="wrist" joint="wrist" gear="0.05" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;

export function reacherModel(): ModelSource {
  return { xml: REACHER_XML, name: 'reacher.xml' };
}
