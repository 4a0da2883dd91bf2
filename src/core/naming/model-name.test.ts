import { describe, expect, it } from 'vitest';
import { spectrumJsonFileName } from '../exports/spectrum-files.ts';
import { hubIdFromCachePath, modelName } from './model-name.ts';

describe('modelName', () => {
  it("takes config.json's _name_or_path when it is a hub id", () => {
    expect(modelName({ _name_or_path: 'Qwen/Qwen2.5-14B' }, '/data/run/checkpoint-500', 'checkpoint-500')).toBe('Qwen/Qwen2.5-14B');
    expect(modelName({ _name_or_path: 'gpt2' }, undefined, 'model')).toBe('gpt2');
  });

  it('ignores a local path or junk in _name_or_path', () => {
    expect(modelName({ _name_or_path: '/home/me/models/llama' }, undefined, 'llama-ft')).toBe('llama-ft');
    expect(modelName({ _name_or_path: './out' }, undefined, 'out')).toBe('out');
    expect(modelName({ _name_or_path: 'a/b/c' }, undefined, 'c')).toBe('c');
    expect(modelName({ _name_or_path: 42 }, undefined, 'x')).toBe('x');
    expect(modelName({ _name_or_path: 'evil\n- .*' }, undefined, 'x')).toBe('x');
  });

  it('reads the Hugging Face cache layout', () => {
    const snapshot = '/root/.cache/huggingface/hub/models--meta-llama--Llama-3.1-8B/snapshots/0e9e39f249a16976918f6564b8830bc894c89659';
    expect(modelName(null, snapshot, '0e9e39f249a16976918f6564b8830bc894c89659')).toBe('meta-llama/Llama-3.1-8B');
    expect(hubIdFromCachePath(`${snapshot}/model-00001-of-00004.safetensors`)).toBe('meta-llama/Llama-3.1-8B');
    expect(hubIdFromCachePath('models--gpt2/snapshots/abc')).toBe('gpt2');
    expect(hubIdFromCachePath('C:\\hf\\models--Org--Name\\snapshots\\abc')).toBe('Org/Name');
    expect(hubIdFromCachePath('/data/models--Org--Name/blobs/abc')).toBeNull();
    expect(hubIdFromCachePath('/data/models----x/snapshots/abc')).toBeNull();
  });

  it('gives the file names Spectrum gives: snr_results_Org-Name.json', () => {
    const name = modelName(null, 'models--Qwen--Qwen2.5-14B/snapshots/abc', 'abc');
    // Spectrum's own result file for this model, shipped in test-fixtures/spectrum-results
    expect(spectrumJsonFileName(name)).toBe('snr_results_Qwen-Qwen2.5-14B.json');
  });

  it('falls back to the folder or file name', () => {
    expect(modelName(null, '/data/my-finetune', 'my-finetune')).toBe('my-finetune');
    expect(modelName({}, undefined, 'phase0-base')).toBe('phase0-base');
  });
});
