// Pendulum (dm_control suite "pendulum", physically equal; visuals omitted): a 1 kg point-like
// sphere 0.5 m from a damped hinge (the rod and base are massless), torque motor with gear 1.
// Euler at 20 ms, no contacts.
import type { ModelSource } from '../physics.js';

export const PENDULUM_XML = `<mujoco model="pendulum">
  <option timestep="0.02">
    <flag contact="disable" energy="enable"/>
  </option>
  <worldbody>
    <geom name="floor" type="plane" size="2 2 0.2"/>
    <body name="pole" pos="0 0 0.6">
      <joint name="hinge" type="hinge" axis="0 1 0" damping="0.1"/>
      <geom name="base" type="cylinder" fromto="0 -0.03 0 0 0.03 0" size="0.021" mass="0"/>
      <geom name="pole" type="capsule" fromto="0 0 0 0 0 0.5" size="0.02" mass="0"/>
      <geom name="mass" type="sphere" pos="0 0 0.5" size="0.05" mass="1"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="torque" joint="hinge" gear="1" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;

export function pendulumModel(): ModelSource {
  return { xml: PENDULUM_XML, name: 'pendulum.xml' };
}
