import { describe, expect, it } from 'vitest';
import { groupCheckpoints, ignoredFiles, runOfDrop } from './group-files.ts';

const f = (path: string) => ({ file: new File([], path.split('/').pop()!), path });
const names = (groups: ReturnType<typeof groupCheckpoints>) => groups.map((g) => [g.name ?? '', g.files.map((x) => x.name)]);

describe('grouping dropped files into checkpoints', () => {
  it('keeps a folder together under its name', () => {
    expect(
      names(
        groupCheckpoints([
          f('Qwen/model-00001-of-00002.safetensors'),
          f('Qwen/model-00002-of-00002.safetensors'),
          f('Qwen/model.safetensors.index.json'),
          f('Qwen/config.json'),
        ]),
      ),
    ).toEqual([
      ['Qwen', ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'config.json']],
    ]);
  });
  it('keeps loose shards with their index together', () => {
    expect(
      groupCheckpoints([f('model-00001-of-00002.safetensors'), f('model-00002-of-00002.safetensors'), f('model.safetensors.index.json')]),
    ).toHaveLength(1);
  });
  it('splits unrelated single-file checkpoints, sharing a config', () => {
    expect(names(groupCheckpoints([f('base.safetensors'), f('phase1.safetensors'), f('config.json')]))).toEqual([
      ['', ['base.safetensors', 'config.json']],
      ['', ['phase1.safetensors', 'config.json']],
    ]);
  });
  it('ignores folders without weights, and one checkpoint per folder', () => {
    expect(names(groupCheckpoints([f('a/x.safetensors'), f('b/y.safetensors'), f('docs/readme.md')]))).toEqual([
      ['a', ['x.safetensors']],
      ['b', ['y.safetensors']],
    ]);
  });
  it('takes .gguf files, one checkpoint each, and GGUF shards together', () => {
    expect(names(groupCheckpoints([f('a.Q4_K_M.gguf'), f('b.Q8_0.gguf')]))).toEqual([
      ['', ['a.Q4_K_M.gguf']],
      ['', ['b.Q8_0.gguf']],
    ]);
    expect(groupCheckpoints([f('m-00001-of-00002.gguf'), f('m-00002-of-00002.gguf')])).toHaveLength(1);
  });
  it('keeps a LoRA adapter with its config, and merges it into the one base dropped with it', () => {
    expect(names(groupCheckpoints([f('adapter_model.safetensors'), f('adapter_config.json')]))).toEqual([
      ['', ['adapter_model.safetensors', 'adapter_config.json']],
    ]);
    expect(
      names(groupCheckpoints([f('model.safetensors'), f('config.json'), f('adapter_model.safetensors'), f('adapter_config.json')])),
    ).toEqual([['', ['model.safetensors', 'config.json', 'adapter_model.safetensors', 'adapter_config.json']]]);
    // with two bases it cannot tell which: the adapter stands alone, and only it gets adapter_config.json
    expect(
      names(
        groupCheckpoints([
          f('base.safetensors'),
          f('phase1.safetensors'),
          f('config.json'),
          f('adapter_model.safetensors'),
          f('adapter_config.json'),
        ]),
      ),
    ).toEqual([
      ['', ['base.safetensors', 'config.json']],
      ['', ['phase1.safetensors', 'config.json']],
      ['', ['adapter_model.safetensors', 'adapter_config.json']],
    ]);
  });
});

describe('dropped files that open nothing', () => {
  const sized = (path: string, size: number) => ({ file: new File([new Uint8Array(size)], path.split('/').pop()!), path });
  it('are listed with the reason, each', () => {
    expect(ignoredFiles([sized('passwd', 1200), sized('empty.bin', 0), f('config.json')])).toEqual([
      { path: 'passwd', reason: expect.stringMatching(/^not a checkpoint \(expected \.safetensors, \.gguf/) as string },
      { path: 'empty.bin', reason: expect.stringMatching(/^an empty file, not a checkpoint/) as string },
      { path: 'config.json', reason: 'found a model config but no weights beside it' },
    ]);
    expect(ignoredFiles([f('lora/adapter_config.json')])).toEqual([
      { path: 'lora/adapter_config.json', reason: 'found an adapter config but no adapter_model.safetensors beside it' },
    ]);
  });
  it("a loose file beside weights is listed; a model folder's own extras are not", () => {
    expect(ignoredFiles([f('model.safetensors'), f('config.json'), sized('passwd', 10)]).map((x) => x.path)).toEqual(['passwd']);
    expect(groupCheckpoints([f('model.safetensors'), f('config.json'), sized('passwd', 10)])[0].files.map((x) => x.name)).toEqual([
      'model.safetensors',
      'config.json',
    ]);
    expect(ignoredFiles([f('Qwen/model.safetensors'), f('Qwen/tokenizer.json'), f('Qwen/README.md')])).toEqual([]);
  });
  it('a folder keeps its path, for the model name', () => {
    const [group] = groupCheckpoints([f('models--Org--Name/snapshots/abc/model.safetensors')]);
    expect(group).toMatchObject({ name: 'abc', folder: 'models--Org--Name/snapshots/abc' });
  });
});

describe('a drop that is a training run', () => {
  const ckpt = (folder: string, state = true) => [
    f(`${folder}/model.safetensors`),
    f(`${folder}/config.json`),
    ...(state ? [f(`${folder}/trainer_state.json`)] : []),
  ];
  it('is checkpoint folders side by side, each with a trainer_state.json or a step in its name', () => {
    const run = runOfDrop([...ckpt('my-run/checkpoint-500'), ...ckpt('my-run/checkpoint-1000'), f('my-run/README.md')]);
    expect(run?.name).toBe('my-run');
    expect(run?.checkpoints.map((c) => [c.path, c.files.map((x) => x.name), c.trainerState?.name])).toEqual([
      ['my-run/checkpoint-500', ['model.safetensors', 'config.json'], 'trainer_state.json'],
      ['my-run/checkpoint-1000', ['model.safetensors', 'config.json'], 'trainer_state.json'],
    ]);
    // named by step without a trainer state; the folders dropped without their parent
    expect(runOfDrop([...ckpt('step_100', false), ...ckpt('step_200', false)])).toMatchObject({ name: 'run' });
    // a folder without a step nor a trainer state is not a run's checkpoint
    expect(runOfDrop([...ckpt('r/checkpoint-5'), ...ckpt('r/final', false)])).toBeNull();
  });
  it('is not one checkpoint, loose files, or folders in different places', () => {
    expect(runOfDrop(ckpt('run/checkpoint-5'))).toBeNull();
    expect(runOfDrop([f('step_1.safetensors'), f('step_2.safetensors')])).toBeNull();
    expect(runOfDrop([...ckpt('a/checkpoint-5'), ...ckpt('b/checkpoint-6')])).toBeNull();
  });
});
