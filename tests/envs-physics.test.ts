// Physics layer on the real @mujoco/mujoco module: loading (strings, includes, errors), state
// views, stepping semantics, view survival across WebAssembly memory growth, disposal.
import { describe, expect, it } from 'vitest';
import { EnvError } from '../src/errors.js';
import { compileModel, loadMujocoModule, mujocoModule, Physics } from '../src/envs/physics.js';

// A damped pendulum hanging from a slider, with a site, a sensor and a limited motor.
const XML = `<mujoco model="test">
  <option timestep="0.005"/>
  <worldbody>
    <body name="cart">
      <joint name="slide" type="slide" axis="1 0 0" damping="0.1"/>
      <geom type="box" size="0.1 0.1 0.1" mass="1"/>
      <body name="pole">
        <joint name="hinge" type="hinge" axis="0 1 0" damping="0.01"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.02" mass="0.2"/>
        <site name="tip" pos="0 0 -0.5"/>
      </body>
    </body>
  </worldbody>
  <actuator><motor name="push" joint="slide" gear="2" ctrllimited="true" ctrlrange="-1 1"/></actuator>
  <sensor><jointpos name="angle" joint="hinge"/><framepos name="tip_pos" objtype="site" objname="tip"/></sensor>
</mujoco>`;

describe('Physics', () => {
  it('loads a model from a string and exposes sizes, timestep and integrator', async () => {
    const p = await Physics.load(XML);
    try {
      expect([p.nq, p.nv, p.nu, p.nbody, p.nsite]).toEqual([2, 2, 1, 3, 1]);
      expect(p.timestep).toBe(0.005);
      expect(p.integrator).toBe(0); // Euler
      expect(Array.from(p.ctrlRange)).toEqual([-1, 1]);
      expect(Array.from(p.ctrlLimited)).toEqual([1]);
      expect(p.sensor('tip_pos')).toEqual({ adr: 1, dim: 3 });
      expect(p.jointQposAdr('hinge')).toBe(1);
      expect(p.jointDofAdr('hinge')).toBe(1);
      expect(() => p.id('body', 'nope')).toThrow(EnvError);
      expect(() => p.id('body', 'nope')).toThrow(/no body named 'nope'/);
    } finally {
      p.dispose();
    }
  });

  it('steps: time advances, controls act, derived quantities describe the new state', async () => {
    const p = await Physics.load(XML);
    try {
      p.qpos[1] = 0.3;
      p.forward();
      p.ctrl[0] = 1;
      p.step(10);
      expect(p.time).toBeCloseTo(0.05, 12);
      expect(p.qvel[0]).toBeGreaterThan(0); // pushed along +x
      // After step(), xpos/xmat/sites/sensors match a fresh mj_forward of the same qpos/qvel
      // (dm_control's legacy step), not the state one step earlier.
      const xpos = Float64Array.from(p.xpos);
      const site = Float64Array.from(p.siteXpos);
      const sensors = Float64Array.from(p.sensordata);
      p.forward();
      expect(Array.from(p.xpos)).toEqual(Array.from(xpos));
      expect(Array.from(p.siteXpos)).toEqual(Array.from(site));
      expect(Array.from(p.sensordata)).toEqual(Array.from(sensors));
      expect(p.sensordata[0]).toBe(p.qpos[1]);
    } finally {
      p.dispose();
    }
  });

  it('step(n) follows the same trajectory as n plain mj_step calls', async () => {
    const a = await Physics.load(XML);
    const b = await Physics.load(XML);
    try {
      for (const p of [a, b]) {
        p.qpos[1] = 1;
        p.forward();
        p.ctrl[0] = -0.5;
      }
      a.step(37);
      b.rawStep(37);
      expect(Array.from(a.qpos)).toEqual(Array.from(b.qpos));
      expect(Array.from(a.qvel)).toEqual(Array.from(b.qvel));
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('reset() restores qpos0, zero velocity and time', async () => {
    const p = await Physics.load(XML);
    try {
      p.qpos[1] = 1;
      p.ctrl[0] = 1;
      p.step(5);
      p.reset();
      expect(Array.from(p.qpos)).toEqual([0, 0]);
      expect(Array.from(p.qvel)).toEqual([0, 0]);
      expect(Array.from(p.ctrl)).toEqual([0]);
      expect(p.time).toBe(0);
    } finally {
      p.dispose();
    }
  });

  it('keeps its views valid when the WebAssembly memory grows', async () => {
    const p = await Physics.load(XML);
    const others: Physics[] = [];
    try {
      p.qpos[1] = 0.25;
      const before = p.qpos;
      // Each MjData takes an arena of a few MB; enough of them force memory.grow, which detaches
      // every earlier typed-array view of the heap.
      for (let i = 0; i < 40 && before.length > 0; i++) others.push(await Physics.load(XML.replace('<option timestep="0.005"/>', '<option timestep="0.005"/><size memory="4M"/>')));
      expect(before.length).toBe(0); // the old view is detached: growth did happen
      expect(p.qpos.length).toBe(2);
      expect(p.qpos[1]).toBe(0.25);
      p.step(2);
      expect(p.xmat.length).toBe(27);
    } finally {
      for (const o of others) o.dispose();
      p.dispose();
    }
  });

  it('loads a main document with <include>d files through the virtual file system', async () => {
    const main = `<mujoco model="inc">
      <include file="./parts/options.xml"/>
      <worldbody><body name="b"><joint name="j" type="hinge"/><geom class="heavy" type="sphere" size="0.1"/></body></worldbody>
      <include file="parts/actuators.xml"/>
    </mujoco>`;
    const includes = {
      'parts/options.xml': `<mujoco><option timestep="0.004" integrator="RK4"/><default><default class="heavy"><geom mass="3"/></default></default></mujoco>`,
      'parts/actuators.xml': `<mujoco><actuator><motor joint="j" gear="7" ctrlrange="-2 2"/></actuator></mujoco>`,
    };
    const p = await Physics.load({ xml: main, includes, name: 'inc.xml' });
    try {
      expect(p.timestep).toBe(0.004);
      expect(p.integrator).toBe(1); // RK4
      expect((p.model.body_mass as Float64Array)[1]).toBe(3);
      expect((p.model.actuator_gear as Float64Array)[0]).toBe(7);
      expect(Array.from(p.ctrlRange)).toEqual([-2, 2]);
    } finally {
      p.dispose();
    }
    await expect(Physics.load({ xml: main, includes: { 'parts/options.xml': includes['parts/options.xml'] } })).rejects.toThrow(/actuators\.xml/);
  });

  it('surfaces MuJoCo messages for malformed or invalid MJCF as EnvError', async () => {
    const mj = await loadMujocoModule();
    expect(mujocoModule()).toBe(mj); // one module instance per thread
    const unclosed = '<mujoco><worldbody><body><geom type="sphere" size="1"/></body></worldbody>';
    expect(() => compileModel(mj, unclosed)).toThrow(EnvError);
    expect(() => compileModel(mj, unclosed)).toThrow(/XML parse error/);
    expect(() => compileModel(mj, '<mujoco><worldbody><geom type="spherex" size="1"/></worldbody></mujoco>')).toThrow(/invalid keyword: 'spherex'/);
    expect(() => compileModel(mj, { xml: '<mujoco><worldbody><geom type="sphere"/></worldbody></mujoco>', name: 'bad.xml' })).toThrow(/'bad\.xml'.*size/s);
  });

  it('frees MuJoCo objects on dispose (idempotent) and rejects use afterwards', async () => {
    const p = await Physics.load(XML);
    p.dispose();
    p.dispose();
    expect(p.isDisposed).toBe(true);
    expect(p.model.isDeleted()).toBe(true);
    expect(p.data.isDeleted()).toBe(true);
    expect(() => p.qpos).toThrow(/after dispose/);
  });
});
