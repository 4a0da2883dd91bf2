import { describe, expect, it } from 'vitest';
import { mergeHistory, parseTrainerState } from './trainer-state.ts';

describe("trainer_state.json's step and history", () => {
  it('reads global_step and the logged loss and learning rate, merging the training and evaluation entries of a step', () => {
    const state = parseTrainerState(
      JSON.stringify({
        global_step: 100,
        log_history: [
          { epoch: 0.5, grad_norm: 1.25, learning_rate: 0.001, loss: 3.5, step: 50 },
          { epoch: 1, learning_rate: 0.002, loss: 2.75, step: 100 },
          { epoch: 1, eval_loss: 2.9, eval_runtime: 1.5, step: 100 },
          { train_runtime: 12, train_loss: 3.1, step: 100.5 },
          { loss: 'NaN', step: 75 },
          'not an entry',
        ],
      }),
    );
    expect(state).toEqual({
      globalStep: 100,
      history: [
        { step: 50, epoch: 0.5, grad_norm: 1.25, learning_rate: 0.001, loss: 3.5 },
        { step: 100, epoch: 1, learning_rate: 0.002, loss: 2.75, eval_loss: 2.9 },
      ],
    });
  });

  it('has no step without a whole, non-negative global_step; refuses what is not a JSON object', () => {
    expect(parseTrainerState('{"global_step": 2.5}').globalStep).toBeNull();
    expect(parseTrainerState('{"global_step": -1, "log_history": 7}')).toEqual({ globalStep: null, history: [] });
    expect(() => parseTrainerState('[1, 2]')).toThrow('not a JSON object');
    expect(() => parseTrainerState('{"global_step": ')).toThrow(/^not valid JSON/);
  });

  it("merges checkpoints' histories by step, the later checkpoint's value kept", () => {
    const early = [
      { step: 25, loss: 3 },
      { step: 50, loss: 2.5 },
    ];
    const late = [
      { step: 50, loss: 2.4, learning_rate: 0.1 },
      { step: 75, loss: 2 },
    ];
    expect(mergeHistory([early, late])).toEqual([
      { step: 25, loss: 3 },
      { step: 50, loss: 2.4, learning_rate: 0.1 },
      { step: 75, loss: 2 },
    ]);
  });
});
