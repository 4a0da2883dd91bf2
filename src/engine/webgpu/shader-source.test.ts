import { describe, expect, it } from 'vitest';
import { Pipelines } from './pipelines.ts';
import { assembleShaders, SHADER_NAMES, sourceLine, type ShaderFiles } from './shader-source.ts';
import { nodeShaderFiles, nodeShaders } from './shaders-node.ts';
import { viteShaders } from './shaders-vite.ts';
import { testKit } from './testing.ts';

/** Line (1-based) of the first line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const at = text.split('\n').findIndex((l) => l.includes(needle));
  if (at < 0) throw new Error(`${needle} is not in the text`);
  return at + 1;
}

describe('shader sources', () => {
  it("Vite's ?raw loader and Node's file loader give the same code for every shader", () => {
    const node = nodeShaders();
    for (const name of SHADER_NAMES) {
      expect(node[name].code.length, name).toBeGreaterThan(200);
      expect(viteShaders[name], name).toEqual(node[name]);
    }
  });

  it('puts the shared reductions before both Householder shaders, once, and nowhere else', () => {
    const files = nodeShaderFiles();
    const sources = nodeShaders();
    for (const name of SHADER_NAMES) {
      const uses = name === 'householder' || name === 'householder-small';
      expect(sources[name].code, name).toBe(uses ? files.reductions + files[name] : files[name]);
      // written once: only the shared file defines them
      expect(files[name], name).not.toMatch(/fn reduce(Sum|Max)\b|var<workgroup> red\b/);
    }
    expect(files.reductions).toMatch(/fn reduceSum\(/);
    expect(files.reductions).toMatch(/fn reduceMax\(/);
  });

  it('maps a line of the code back to its file and line, past the prefix', () => {
    const files: ShaderFiles = {
      gram: 'g1\ng2\n',
      householder: 'h1\nh2\nh3',
      'householder-small': 's1\n',
      'tridiagonal-eigenvalues': '',
      krylov: 'k1\n',
      'powerlaw-xmin': 'p1\n',
      reductions: 'r1\nr2\nr3\n',
    };
    const sources = assembleShaders(files);
    const h = sources.householder;
    // a file without a final line break gets one, so the next never starts on its last line
    expect(h.code).toBe('r1\nr2\nr3\nh1\nh2\nh3\n');
    expect([1, 3, 4, 6].map((line) => sourceLine(h, line))).toEqual([
      'reductions.wgsl:1',
      'reductions.wgsl:3',
      'householder.wgsl:1',
      'householder.wgsl:3',
    ]);
    expect(sourceLine(sources.gram, 2)).toBe('gram.wgsl:2');
    expect(sourceLine(h, 0)).toBe('householder.wgsl:0');
  });
});

describe('shaders compile', async () => {
  const kit = await testKit();
  const skip = 'skip' in kit ? kit.skip : '';

  it.skipIf(skip)(
    'every shader passes WGSL validation with no error or warning',
    async () => {
      if ('skip' in kit) return;
      const sources = nodeShaders();
      for (const name of SHADER_NAMES) {
        const info = await kit.device.createShaderModule({ label: name, code: sources[name].code }).getCompilationInfo();
        expect(info.messages.map((m) => `${sourceLine(sources[name], m.lineNum)}: ${m.type}: ${m.message}`)).toEqual([]);
      }
    },
    300_000,
  );

  it.skipIf(skip)(
    'a compile error names the file and line it is on, in the shader and in the shared prefix',
    async () => {
      if ('skip' in kit) return;
      const files = nodeShaderFiles();
      const cases: [keyof ShaderFiles, string][] = [
        ['householder', 'let tau = work[0];'],
        ['reductions', 'red[li] = max(red[li], red[li + s]);'],
      ];
      for (const [file, statement] of cases) {
        const broken = { ...files, [file]: files[file].replace(statement, `${statement} let oops: u32 = 1.5;`) };
        const pipelines = new Pipelines(kit.device, assembleShaders(broken));
        kit.device.pushErrorScope('validation');
        pipelines.module('householder');
        expect(await kit.device.popErrorScope(), file).not.toBeNull();
        const errors = (await pipelines.messages()).filter((m) => / error: /.test(m));
        expect(errors.length, file).toBeGreaterThan(0);
        expect(errors[0], file).toMatch(new RegExp(`^${file}\\.wgsl:${lineOf(files[file], statement)}:\\d+ error: `));
      }
    },
    300_000,
  );
});
