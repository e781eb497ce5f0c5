// Point mass (dm_control suite "point_mass", physically equal; visuals omitted): a 0.3 kg sphere on
// two slide joints (x, y; ±0.29 m, damping 1), driven through two fixed tendons by motors with
// gear 0.1 (in the 'hard' variant the task would mix the tendon coefficients). Euler at 20 ms, no
// contacts. The world geom 'target' marks the goal at the origin.
import type { ModelSource } from '../physics.js';

export const POINT_MASS_XML = `<mujoco model="point_mass">
  <option timestep="0.02">
    <flag contact="disable"/>
  </option>
  <default>
    <joint type="slide" limited="true" range="-0.29 0.29" damping="1"/>
    <motor gear="0.1" ctrllimited="true" ctrlrange="-1 1"/>
  </default>
  <worldbody>
    <geom name="ground" type="plane" size="0.3 0.3 0.1"/>
    <body name="pointmass" pos="0 0 0.01">
      <joint name="root_x" axis="1 0 0"/>
      <joint name="root_y" axis="0 1 0"/>
      <geom name="pointmass" type="sphere" size="0.01" mass="0.3"/>
    </body>
    <geom name="target" type="sphere" pos="0 0 0.01" size="0.015"/>
  </worldbody>
  <tendon>
    <fixed name="t1">
      <joint joint="root_x" coef="1"/>
      <joint joint="root_y" coef="0"/>
    </fixed>
    <fixed name="t2">
      <joint joint="root_x" coef="0"/>
      <joint joint="root_y" coef="1"/>
    </fixed>
  </tendon>
  <actuator>
    <motor name="t1" tendon="t1"/>
    <motor name="t2" tendon="t2"/>
  </actuator>
</mujoco>
`;

export function pointMassModel(): ModelSource {
  return { xml: POINT_MASS_XML, name: 'point_mass.xml' };
}
