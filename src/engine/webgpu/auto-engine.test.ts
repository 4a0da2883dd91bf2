import { describe, expect, it } from 'vitest';
import type { Provenance } from '../../core/scan/record.ts';
import { singularValuesSync } from '../cpu/cpu-engine.ts';
import { gaussian } from '../cpu/testing.ts';
import { expectSpectrum } from '../conformance.ts';
import { AutoEngine, parsePreference, type EngineStatus } from './auto-engine.ts';
import { engineRequestFromQuery, engineRequestFromWorkerName, workerName } from './engine-request.ts';
import { nodeGpu } from './node-gpu.ts';
import { nodeShaders } from './shaders-node.ts';
import { testKit } from './testing.ts';

const shaders = () => nodeShaders();

describe('AutoEngine', async () => {
  const kit = await testKit();
  const skip = 'skip' in kit ? kit.skip : '';

  it('reads the preference, auto by default', () => {
    expect([parsePreference('webgpu'), parsePreference('cpu'), parsePreference(null), parsePreference('tpu')]).toEqual([
      'webgpu',
      'cpu',
      'auto',
      'auto',
    ]);
  });

  it('carries the page’s request (and the loseDeviceAfter test hook) from its address to the workers', () => {
    const cases: [string, string, object][] = [
      ['', 'scan:auto', { preference: 'auto' }],
      ['engine=webgpu', 'scan:webgpu', { preference: 'webgpu' }],
      ['engine=webgpu&loseDeviceAfter=3', 'scan:webgpu:loseDeviceAfter=3', { preference: 'webgpu', loseDeviceAfter: 3 }],
      ['engine=cpu&loseDeviceAfter=0', 'scan:cpu:loseDeviceAfter=0', { preference: 'cpu', loseDeviceAfter: 0 }],
      // anything else is no hook at all
      ['engine=gpu&loseDeviceAfter=-1', 'scan:auto', { preference: 'auto' }],
      ['loseDeviceAfter=3x', 'scan:auto', { preference: 'auto' }],
      ['loseDeviceAfter=', 'scan:auto', { preference: 'auto' }],
      ['loseDeviceAfter=1e3', 'scan:auto', { preference: 'auto' }],
    ];
    for (const [query, name, req] of cases) {
      expect(engineRequestFromQuery(new URLSearchParams(query)), query).toEqual(req);
      expect(workerName(engineRequestFromQuery(new URLSearchParams(query))), query).toBe(name);
      expect(engineRequestFromWorkerName(name), name).toEqual(req);
    }
    expect(engineRequestFromWorkerName('')).toEqual({ preference: 'auto' });
  });

  it('uses the CPU when asked, when there is no WebGPU, or no GPU device, and says why', async () => {
    const cases: [AutoEngine, RegExp][] = [
      [new AutoEngine({ preference: 'cpu', gpu: nodeGpu, shaders }), /^CPU engine \(float64\)$/],
      [new AutoEngine({ preference: 'auto', gpu: async () => null, shaders }), /has no WebGPU/],
      [new AutoEngine({ preference: 'auto', gpu: nodeGpu, hardwarePresent: () => false, shaders }), /no GPU device/],
    ];
    for (const [engine, note] of cases) {
      expect(await engine.status()).toMatchObject({ kind: 'cpu', note: expect.stringMatching(note) });
      const m = gaussian(12 * 20, 1);
      expectSpectrum(await engine.singularValues(m, 12, 20), singularValuesSync(m, 12, 20), 2 ** -53, note.source);
      engine.dispose();
    }
  });

  it.skipIf(skip)(
    'auto turns down a software adapter; webgpu takes it',
    async () => {
      const auto = new AutoEngine({ preference: 'auto', gpu: nodeGpu, shaders });
      const status = await auto.status();
      const software = 'ctx' in kit && kit.ctx.adapter.fallback;
      expect(status.kind).toBe(software ? 'cpu' : 'webgpu');
      if (software) expect(status.note).toMatch(/software WebGPU adapter/);
      auto.dispose();
    },
    300_000,
  );

  it.skipIf(skip)(
    'goes on on the CPU when the device is lost mid-scan, loses no matrix and says so',
    async () => {
      const seen: EngineStatus[] = [];
      const engine = new AutoEngine({ preference: 'webgpu', gpu: nodeGpu, shaders, onStatus: (s) => seen.push(s) });
      expect((await engine.status()).kind).toBe('webgpu');
      const gpu = (await engine.webgpu())!;
      const shapes = [
        [16, 24],
        [24, 16],
        [9, 33],
        [33, 9],
      ];
      const said: Provenance[] = [];
      const results = shapes.map(([r, c], i) => {
        const m = gaussian(r * c, i + 1);
        // The device goes away while the first matrix is on it.
        if (i === 0) setTimeout(() => gpu.kit.device.destroy(), 5);
        return engine
          .singularValues(m, r, c, { onProvenance: (p) => (said[i] = p) })
          .then((s) => ({ s, want: singularValuesSync(m, r, c) }));
      });
      for (const { s, want } of await Promise.all(results)) expectSpectrum(s, want, 2 ** -24, 'across the loss');
      expect(engine.kind).toBe('cpu');
      expect(seen.at(-1)?.note).toMatch(/device was lost/);
      expect((await engine.status()).kind).toBe('cpu');
      // Each result says where it was computed: the ones the loss sent to the CPU (the one on the
      // GPU and those queued behind it) name the loss, the same for all.
      expect(said).toHaveLength(shapes.length);
      const moved = said.filter((p) => p.engine === 'cpu');
      expect(moved.length).toBeGreaterThan(0);
      expect(moved[0].note).toMatch(/^moved to the CPU: .*device lost/);
      for (const p of moved) expect(p.note).toBe(moved[0].note);
      for (const p of said.filter((p) => p.engine !== 'cpu')) expect(p).toEqual({ engine: 'webgpu' });
      // a matrix that starts after the loss is the CPU engine's own
      let after: Provenance | undefined;
      await engine.singularValues(gaussian(6, 9), 2, 3, { onProvenance: (p) => (after = p) });
      expect(after).toEqual({ engine: 'cpu' });
      engine.dispose();
      await expect(engine.singularValues(gaussian(6, 9), 2, 3)).rejects.toMatchObject({ code: 'ENGINE_FAILED' });
    },
    300_000,
  );
});
