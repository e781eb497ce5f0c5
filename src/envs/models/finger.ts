// Finger (dm_control suite "finger", physically equal; visuals omitted): a planar two-link finger
// (proximal hinge at (-0.2, 0.4) with ref -90°, both joints ±110°, damping 2.5, motor gears 30 and
// 15) flicks a free-spinning body (hinge at (0.2, 0.4) with damping 0.5 and friction loss 0.1,
// two offset capsules). Gravity off, elliptic friction cones, 200 solver iterations, Euler at
// 10 ms. Every observation comes from the sensors; the touch sensors use the ellipsoid volumes of
// the 'touchtop' / 'touchbottom' sites, so their size and type are physics, not decoration.
import type { ModelSource } from '../physics.js';

export const FINGER_XML = `<mujoco model="finger">
  <compiler angle="degree"/>
  <option timestep="0.01" cone="elliptic" iterations="200">
    <flag gravity="disable"/>
  </option>
  <default>
    <geom solimp="0 0.9 0.01" solref="0.02 1"/>
    <joint type="hinge" axis="0 -1 0"/>
    <default class="finger">
      <joint damping="2.5" limited="true" range="-110 110"/>
      <site type="ellipsoid" size="0.025 0.03 0.025"/>
    </default>
  </default>
  <worldbody>
    <geom name="ground" type="plane" size="0.6 0.2 10"/>
    <body name="proximal" pos="-0.2 0 0.4" childclass="finger">
      <geom name="proximal_decoration" type="cylinder" fromto="0 -0.033 0 0 0.033 0" size="0.034"/>
      <joint name="proximal" ref="-90"/>
      <geom name="proximal" type="capsule" fromto="0 0 0 0 0 -0.17" size="0.03"/>
      <body name="distal" pos="0 0 -0.18">
        <joint name="distal"/>
        <geom name="distal" type="capsule" fromto="0 0 0 0 0 -0.16" size="0.028" contype="0" conaffinity="0"/>
        <geom name="fingertip" type="capsule" fromto="0 0 -0.13 0 0 -0.161" size="0.03"/>
        <site name="touchtop" pos="0.01 0 -0.17"/>
        <site name="touchbottom" pos="-0.01 0 -0.17"/>
      </body>
    </body>
    <body name="spinner" pos="0.2 0 0.4">
      <joint name="hinge" damping="0.5" frictionloss="0.1"/>
      <geom name="cap1" type="capsule" pos="0.02 0 0" size="0.04 0.09"/>
      <geom name="cap2" type="capsule" pos="-0.02 0 0" size="0.04 0.09"/>
      <site name="tip" type="sphere" pos="0 0 0.13" size="0.02"/>
      <geom name="spinner_decoration" type="cylinder" fromto="0 -0.045 0 0 0.045 0" size="0.02"/>
    </body>
    <site name="target" type="sphere" pos="0 0 0.4" size="0.03"/>
  </worldbody>
  <actuator>
    <motor name="proximal" joint="proximal" gear="30" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="distal" joint="distal" gear="15" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
  <sensor>
    <jointpos name="proximal" joint="proximal"/>
    <jointpos name="distal" joint="distal"/>
    <jointvel name="proximal_velocity" joint="proximal"/>
    <jointvel name="distal_velocity" joint="distal"/>
    <jointvel name="hinge_velocity" joint="hinge"/>
    <framepos name="tip" objtype="site" objname="tip"/>
    <framepos name="target" objtype="site" objname="target"/>
    <framepos name="spinner" objtype="xbody" objname="spinner"/>
    <touch name="touchtop" site="touchtop"/>
    <touch name="touchbottom" site="touchbottom"/>
    <framepos name="touchtop_pos" objtype="site" objname="touchtop"/>
    <framepos name="touchbottom_pos" objtype="site" objname="touchbottom"/>
  </sensor>
</mujoco>
`;

export function fingerModel(): ModelSource {
  return { xml: FINGER_XML, name: 'finger.xml' };
}
