// Cart-pole (dm_control suite "cartpole", physically equal; visuals omitted): a 1 kg cart on a
// ±1.8 m rail pushed by a motor (gear 10), carrying a 1 m, 0.1 kg capsule pole on an unactuated
// hinge. RK4 at 10 ms, no contacts (the rails and floor are decoration only).
import type { ModelSource } from '../physics.js';

export const CARTPOLE_XML = `<mujoco model="cartpole">
  <option timestep="0.01" integrator="RK4">
    <flag contact="disable" energy="enable"/>
  </option>
  <worldbody>
    <geom name="floor" type="plane" pos="0 0 -0.05" size="4 4 0.2"/>
    <body name="cart" pos="0 0 1">
      <joint name="slider" type="slide" axis="1 0 0" limited="true" range="-1.8 1.8" solreflimit="0.08 1" damping="5e-4"/>
      <geom name="cart" type="box" size="0.2 0.15 0.1" mass="1"/>
      <body name="pole_1">
        <joint name="hinge_1" type="hinge" axis="0 1 0" damping="2e-6"/>
        <geom name="pole_1" type="capsule" fromto="0 0 0 0 0 1" size="0.045" mass="0.1"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="slide" joint="slider" gear="10" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;

export function cartpoleModel(): ModelSource {
  return { xml: CARTPOLE_XML, name: 'cartpole.xml' };
}
