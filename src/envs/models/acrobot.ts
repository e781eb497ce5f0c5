// Acrobot (dm_control suite "acrobot", Coulom's variant; physically equal, visuals omitted): two
// 1 m capsule links of 1 kg each on damped hinges (0.05), only the elbow actuated (gear 2). RK4 at
// 10 ms with constraints disabled. The target site sits 4 m up, 2 m above the shoulder.
import type { ModelSource } from '../physics.js';

export const ACROBOT_XML = `<mujoco model="acrobot">
  <option timestep="0.01" integrator="RK4">
    <flag constraint="disable" energy="enable"/>
  </option>
  <worldbody>
    <geom name="floor" type="plane" size="3 3 0.2"/>
    <site name="target" type="sphere" pos="0 0 4" size="0.2"/>
    <body name="upper_arm" pos="0 0 2">
      <joint name="shoulder" type="hinge" axis="0 1 0" damping="0.05"/>
      <geom name="upper_arm_decoration" type="cylinder" fromto="0 -0.06 0 0 0.06 0" size="0.051" mass="0"/>
      <geom name="upper_arm" type="capsule" fromto="0 0 0 0 0 1" size="0.05" mass="1"/>
      <body name="lower_arm" pos="0 0 1">
        <joint name="elbow" type="hinge" axis="0 1 0" damping="0.05"/>
        <geom name="lower_arm" type="capsule" fromto="0 0 0 0 0 1" size="0.049" mass="1"/>
        <site name="tip" pos="0 0 1" size="0.01"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="elbow" joint="elbow" gear="2" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;

export function acrobotModel(): ModelSource {
  return { xml: ACROBOT_XML, name: 'acrobot.xml' };
}
