// Ball in cup (dm_control suite "ball_in_cup", physically equal; visuals omitted): a cup made of
// five thin capsules on two spring-damped slide joints (x, z; stiffness 20, damping 3), driven by
// motors with gear 5, and a free ball (two slide joints, radius 0.025, water density) tied to the
// cup by a 0.3 m limited spatial tendon. Default Euler at 2 ms; the task's control step is 20 ms.
import type { ModelSource } from '../physics.js';

export const BALL_IN_CUP_XML = `<mujoco model="ball_in_cup">
  <default>
    <motor gear="5" ctrllimited="true" ctrlrange="-1 1"/>
    <default class="cup">
      <joint type="slide" damping="3" stiffness="20"/>
      <geom type="capsule" size="0.008"/>
    </default>
  </default>
  <worldbody>
    <geom name="ground" type="plane" size="0.6 0.2 10"/>
    <body name="cup" pos="0 0 0.6" childclass="cup">
      <joint name="cup_x" axis="1 0 0"/>
      <joint name="cup_z" axis="0 0 1"/>
      <geom name="cup_part_0" fromto="-0.05 0 0 -0.05 0 -0.075"/>
      <geom name="cup_part_1" fromto="-0.05 0 -0.075 -0.025 0 -0.1"/>
      <geom name="cup_part_2" fromto="-0.025 0 -0.1 0.025 0 -0.1"/>
      <geom name="cup_part_3" fromto="0.025 0 -0.1 0.05 0 -0.075"/>
      <geom name="cup_part_4" fromto="0.05 0 -0.075 0.05 0 0"/>
      <site name="cup" pos="0 0 -0.108" size="0.005"/>
      <site name="target" type="box" pos="0 0 -0.05" size="0.05 0.006 0.05"/>
    </body>
    <body name="ball" pos="0 0 0.2">
      <joint name="ball_x" type="slide" axis="1 0 0"/>
      <joint name="ball_z" type="slide" axis="0 0 1"/>
      <geom name="ball" type="sphere" size="0.025"/>
      <site name="ball" size="0.005"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="x" joint="cup_x"/>
    <motor name="z" joint="cup_z"/>
  </actuator>
  <tendon>
    <spatial name="string" limited="true" range="0 0.3" width="0.003">
      <site site="ball"/>
      <site site="cup"/>
    </spatial>
  </tendon>
</mujoco>
`;

export function ballInCupModel(): ModelSource {
  return { xml: BALL_IN_CUP_XML, name: 'ball_in_cup.xml' };
}
