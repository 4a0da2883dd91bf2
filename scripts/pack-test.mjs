#!/usr/bin/env node
// The package as a user gets it: build the CLI, `npm pack`, install the tarball into an empty folder (its runtime
// dependencies only: no tsx, no sources), run its `spectral-workbench scan` on the demo's phase 1 with the CPU
// engine, and compare the 25% YAML with the one Spectrum's own spectrum.py wrote for that checkpoint, byte for byte.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const started = performance.now();
const step = (what) => process.stderr.write(`test:pack: ${what} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

const work = mkdtempSync(join(tmpdir(), 'sw-pack-'));
try {
  run(npm, ['run', '--silent', 'build:cli'], root);
  step('CLI built');

  const packDir = join(work, 'pack');
  mkdirSync(packDir);
  // --ignore-scripts: prepack would build a second time.
  const [packed] = JSON.parse(run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], root));
  const shipped = packed.files.map((f) => f.path);
  for (const must of ['bin/spectral-workbench.js', 'dist-cli/cli/main.js', 'dist-cli/cli/scan-worker.js', 'shaders/gram.wgsl', 'README.md'])
    assert.ok(shipped.includes(must), `the package ships ${must}`);
  const extra = shipped.filter((p) => !/^(bin|dist-cli|shaders)\/|^(package\.json|README\.md|LICENSE|NOTICE)$/.test(p));
  assert.deepEqual(extra, [], 'the package ships nothing but bin/, dist-cli/, shaders/ and its documents');
  step(`packed ${packed.filename}: ${shipped.length} files, ${(packed.size / 1024).toFixed(0)} KiB`);

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "pack-test", "private": true }\n');
  run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(packDir, packed.filename)], app);
  assert.ok(!existsSync(join(app, 'node_modules/tsx')), 'the installed CLI runs without tsx');
  step('installed');

  const phase = 'phase1-25pct';
  const out = join(work, 'out');
  // The checkpoint's config.json lies beside it in public/demo; cwd is the install folder, far from the sources.
  const cli = join(app, 'node_modules/.bin/spectral-workbench');
  const args = ['scan', join(root, 'public/demo', `${phase}.safetensors`), '--out', out, '--engine', 'cpu', '--percent', '25'];
  run(cli, [...args, '--model-name', `spectral-workbench/demo-${phase}`, '--quiet'], app);
  step('scanned');

  const name = `snr_results_spectral-workbench-demo-${phase}_unfrozenparameters_25percent.yaml`;
  const expected = readFileSync(join(root, 'test-fixtures/expected/demo-phases', `spectrum-${phase}`, name));
  const actual = readFileSync(join(out, name));
  assert.ok(actual.equals(expected), `${name} differs from Spectrum's:\n${actual}\n--- Spectrum's ---\n${expected}`);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.equal(metrics.engine, 'cpu');
  assert.equal(metrics.matrices.length, 147);
  step(`ok: the packed CLI writes Spectrum's ${name}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
