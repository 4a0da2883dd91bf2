import { describe, expect, it } from 'vitest';
import { discoverRun, orderedRun, scanOrder } from './run.ts';
import { stepOfName, stepOfPath } from './steps.ts';

describe('the step a checkpoint name carries', () => {
  it.each([
    ['checkpoint-1500', 1500, 'step'],
    ['checkpoint-0', 0, 'step'],
    ['global_step1000', 1000, 'step'],
    ['step_1000', 1000, 'step'],
    ['step-250', 250, 'step'],
    ['step1000', 1000, 'step'],
    ['Step_42.safetensors', 42, 'step'],
    ['model_step_300.safetensors', 300, 'step'],
    ['steps_20', 20, 'step'],
    ['iter_0001000', 1000, 'step'],
    ['ckpt-1k', 1000, 'step'],
    ['ckpt-1.5k', 1500, 'step'],
    ['ckpt_2M', 2_000_000, 'step'],
    ['ckpt-750', 750, 'step'],
    ['epoch-3', 3, 'epoch'],
    ['epoch_12', 12, 'epoch'],
    ['epoch-2-step-900', 900, 'step'],
  ] as const)('%s → %d (%s)', (name, value, unit) => {
    expect(stepOfName(name)).toEqual({ value, unit });
  });

  it.each(['model', 'final', 'llama-3-8b', 'ckpt-1.2345k', 'steps', 'footstep_5', 'step_1000x', 'epochs'])('%s carries no step', (name) => {
    expect(stepOfName(name)).toBeNull();
  });

  it('takes the deepest part of a path that carries one', () => {
    expect(stepOfPath('runs/step_sweep/checkpoint-500/model.safetensors')).toEqual({
      step: { value: 500, unit: 'step' },
      part: 'checkpoint-500',
    });
    expect(stepOfPath('runs/global_step2000/model.safetensors')?.step.value).toBe(2000);
    expect(stepOfPath('runs/final/model.safetensors')).toBeNull();
  });
});

describe('a run from its checkpoints', () => {
  it("orders a Trainer folder's checkpoints by step, not by name (checkpoint-1000 after checkpoint-500), with gaps", () => {
    const run = discoverRun([
      { path: 'checkpoint-1000', globalStep: 1000 },
      { path: 'checkpoint-50', globalStep: 50 },
      { path: 'checkpoint-500', globalStep: 500 },
      { path: 'checkpoint-0', globalStep: 0 },
    ]);
    expect(run.checkpoints.map((c) => [c.label, c.step, c.stepSource])).toEqual([
      ['checkpoint-0', 0, 'trainer_state'],
      ['checkpoint-50', 50, 'trainer_state'],
      ['checkpoint-500', 500, 'trainer_state'],
      ['checkpoint-1000', 1000, 'trainer_state'],
    ]);
    expect(run.left).toEqual([]);
    expect(run.notes).toEqual([]);
  });

  it("takes trainer_state.json's global_step over the name's step, and says so", () => {
    const run = discoverRun([
      { path: 'checkpoint-300', globalStep: 320 },
      { path: 'checkpoint-200', globalStep: 200 },
    ]);
    expect(run.checkpoints.map((c) => c.step)).toEqual([200, 320]);
    expect(run.notes).toEqual(["checkpoint-300: trainer_state.json's global_step 320 is used, not the name's step 300"]);
  });

  it('orders names of every scheme together, out of order and with missing steps, and names a weight file by its folder', () => {
    const run = discoverRun([
      { path: 'run/ckpt-1.5k.safetensors' },
      { path: 'run/global_step250/model.safetensors' },
      { path: 'run/step_1000' },
      { path: 'run/iter_0000100' },
      { path: 'run/final' },
    ]);
    expect(run.checkpoints.map((c) => [c.label, c.step])).toEqual([
      ['iter_0000100', 100],
      ['global_step250', 250],
      ['step_1000', 1000],
      ['ckpt-1.5k.safetensors', 1500],
    ]);
    expect(run.left).toEqual([
      { path: 'run/final', reason: 'no step: neither a trainer_state.json with global_step nor a step in its name' },
    ]);
  });

  it('orders epochs alone, and leaves them out when the others are named by step', () => {
    expect(discoverRun([{ path: 'epoch-3' }, { path: 'epoch-1' }, { path: 'epoch-2' }]).checkpoints.map((c) => [c.step, c.unit])).toEqual([
      [1, 'epoch'],
      [2, 'epoch'],
      [3, 'epoch'],
    ]);
    const mixed = discoverRun([{ path: 'step_100' }, { path: 'epoch-1' }]);
    expect(mixed.checkpoints.map((c) => c.label)).toEqual(['step_100']);
    expect(mixed.left[0].reason).toMatch(/named by epoch/);
  });

  it('leaves out a second checkpoint of the same step, naming the first', () => {
    const run = discoverRun([{ path: 'a/step_100' }, { path: 'b/checkpoint-100' }]);
    expect(run.checkpoints.map((c) => c.path)).toEqual(['a/step_100']);
    expect(run.left).toEqual([{ path: 'b/checkpoint-100', reason: 'step 100 again (step_100 has it)' }]);
  });

  it('keeps an order given by hand, with the steps that are known', () => {
    const run = orderedRun([
      { path: 'picked/base.safetensors' },
      { path: 'picked/step_900' },
      { path: 'picked/step_300', globalStep: 300 },
    ]);
    expect(run.checkpoints.map((c) => [c.label, c.step, c.stepSource])).toEqual([
      ['base.safetensors', null, null],
      ['step_900', 900, 'name'],
      ['step_300', 300, 'trainer_state'],
    ]);
  });

  it('scans newest and oldest first, then inwards', () => {
    expect(scanOrder(10)).toEqual([9, 0, 8, 1, 7, 2, 6, 3, 5, 4]);
    expect(scanOrder(3)).toEqual([2, 0, 1]);
    expect(scanOrder(1)).toEqual([0]);
    expect(scanOrder(0)).toEqual([]);
  });
});
