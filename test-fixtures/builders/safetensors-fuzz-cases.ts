/**
 * The cases of the safetensors fuzz suite: small valid files of every dtype, damaged in every region
 * (length field, JSON text, entries, data), plus fixed cases at and beyond each named limit.
 */
import { BYTES_PER_ELEMENT } from '../../src/core/formats/dtype.ts';
import { MAX_HEADER_BYTES, MAX_HEADER_DEPTH, MAX_TENSORS_PER_HEADER } from '../../src/core/formats/safetensors.ts';
import { flipBits, spliceBytes, virtualSource, type Fuzz, type FuzzCase } from './fuzz.ts';
import { joinSafetensors, safetensorsParts, type FixtureTensor } from './safetensors.ts';

const FILE = 'case.safetensors';
const DTYPES = Object.keys(BYTES_PER_ELEMENT) as (keyof typeof BYTES_PER_ELEMENT)[];
/** Names a file may carry: ordinary ones, and ones that are markup, control characters, quotes, JS internals. */
const NAMES = [
  'model.layers.0.self_attn.q_proj.weight',
  'model.layers.0.mlp.down_proj.weight',
  'model.layers.1.input_layernorm.weight',
  'model.embed_tokens.weight',
  'lm_head.weight',
  'x',
  '',
  ' ',
  '<img src=x onerror=alert(1)>',
  '=HYPERLINK("http://x")',
  'line\nbreak',
  'tab\there',
  'quote"d',
  'back\\slash',
  'nul\u0000',
  'ünï名前',
  '\ud83d\ude00',
  'constructor',
  'toString',
  'hasOwnProperty',
  'a'.repeat(300),
];
/** Values that an entry's fields must never be taken for. */
const WEIRD: unknown[] = [
  null,
  true,
  false,
  -1,
  0,
  1.5,
  -0.5,
  2 ** 53,
  2 ** 64,
  1e300,
  '',
  'F32',
  '7',
  [],
  {},
  [[]],
  [null],
  [-1],
  [1.5],
  ['3'],
  [2 ** 53],
  [0, 2 ** 52],
  [2 ** 26, 2 ** 26, 2 ** 26],
  Array(9).fill(1),
  Array(1000).fill(1),
  { 0: 1 },
  'x'.repeat(5000),
  [[2, 2]],
  [true],
];
const BAD_DTYPES = ['Q4_0', 'f32', 'F32 ', ' F32', 'F4', 'I4', 'C64', 'F8_E4M3FN', 'BF8', '__proto__', 'toString', 'F3\u00002', 'é'];

function tensors(f: Fuzz): FixtureTensor[] {
  const names = new Set<string>();
  const count = f.int(0, 6);
  while (names.size < count)
    names.add(f.chance(0.7) ? `model.layers.${f.int(0, 3)}.mlp.${f.pick(['up', 'down', 'gate'])}_proj.weight` : f.pick(NAMES));
  return [...names].map((name) => {
    const dtype = f.chance(0.7) ? f.pick(['F32', 'F16', 'BF16', 'F64', 'F8_E4M3', 'F8_E5M2'] as const) : f.pick(DTYPES);
    const shape = Array.from({ length: f.pick([0, 1, 2, 2, 2, 3]) }, () => (f.chance(0.05) ? 0 : f.int(1, 7)));
    const bytes = f.bytes(shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dtype]);
    return { name, dtype, shape, bytes };
  });
}

function base(f: Fuzz) {
  const metadata = f.chance(0.3) ? { format: 'pt', note: f.pick(NAMES) } : undefined;
  return safetensorsParts(tensors(f), metadata);
}

const dataStartOf = (bytes: Uint8Array) => 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));

type Entry = Record<string, unknown>;

/** One change to one header entry, at the level of parsed JSON. */
function mutateEntry(f: Fuzz, header: Record<string, unknown>, dataLength: number): string {
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  if (names.length === 0) {
    header[f.pick(NAMES)] = f.pick(WEIRD);
    return 'entry added';
  }
  const name = f.pick(names);
  // an earlier change may have left this entry, or another, something other than an entry
  const asEntry = (x: unknown): Entry => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Entry) : {});
  const e = asEntry(header[name]);
  header[name] = e;
  const offsets = Array.isArray(e.data_offsets) ? (e.data_offsets as number[]) : [0, 0];
  const [b, end] = [Number(offsets[0]) || 0, Number(offsets[1]) || 0];
  const other = asEntry(header[f.pick(names)]);
  const choice = f.int(0, 11);
  switch (choice) {
    case 0:
      e.dtype = f.chance(0.5) ? f.pick(BAD_DTYPES) : f.pick(WEIRD);
      return 'dtype';
    case 1:
      e.dtype = f.pick(DTYPES);
      return 'dtype disagrees with bytes';
    case 2:
      e.shape = f.pick(WEIRD);
      return 'shape';
    case 3: {
      const s = Array.isArray(e.shape) ? [...(e.shape as number[])] : [];
      const op = f.int(0, 3);
      if (op === 0 && s.length) s[f.int(0, s.length - 1)] += f.pick([-1, 1, 2 ** 31, 2 ** 40]);
      else if (op === 1) s.push(f.int(0, 3));
      else if (op === 2) s.pop();
      else s.reverse();
      e.shape = s;
      return 'shape disagrees with bytes';
    }
    case 4:
      e.data_offsets = f.pick(WEIRD);
      return 'offsets';
    case 5:
      e.data_offsets = [end, b];
      return 'offsets reversed';
    case 6: {
      const k = f.pick([-8, -1, 1, 7]);
      e.data_offsets = [b + k, end + k];
      return 'offsets shifted';
    }
    case 7:
      e.data_offsets = [b, dataLength + f.int(1, 2 ** 20)];
      return 'offsets beyond the data';
    case 8:
      e.data_offsets = Array.isArray(other.data_offsets) ? [...other.data_offsets] : other.data_offsets;
      e.dtype = other.dtype;
      e.shape = other.shape;
      return 'same range as another tensor';
    case 9:
      delete e[f.pick(['dtype', 'shape', 'data_offsets'])];
      return 'field missing';
    case 10:
      header[name] = f.pick(WEIRD);
      return 'entry not an object';
    default:
      header.__metadata__ = f.pick([...WEIRD, { a: { b: 'c' } }, { '<b>x</b>': '<script>alert(1)</script>' }]);
      return 'metadata';
  }
}

/** One change to the header's JSON text. */
function mutateText(f: Fuzz, text: string): [string, string] {
  const at = f.int(0, text.length);
  switch (f.int(0, 6)) {
    case 0:
      return [text.slice(0, at) + text.slice(at + 1), 'char deleted'];
    case 1:
      return [text.slice(0, at) + f.pick([...'{}[]":,\\0123456789-.eEtfn ', '\u0000', '\ud800']) + text.slice(at), 'char inserted'];
    case 2:
      return [text.slice(0, at), 'text cut'];
    case 3: {
      // a top-level member twice, or a name JavaScript treats specially
      const m = /"((?:[^"\\]|\\.)*)":(\{[^{}]*\})/.exec(text);
      const dup = m ? `"${m[1]}":${m[2]}` : '"x":{}';
      const extra = f.pick([dup, dup, `"__proto__":${m?.[2] ?? '{}'}`, '"__metadata__":{"a":"b"}', `${dup},${dup}`]);
      return [text.replace(/^\{/, text.length > 2 ? `{${extra},` : `{${extra}`), 'duplicate or special name'];
    }
    case 4:
      return [
        text.replace(/\d+/, f.pick(['1e999', '-0', '1e-999', '0x10', '99999999999999999999', '1.0', '01', 'NaN'])),
        'number spelled oddly',
      ];
    case 5:
      return [f.pick(['[]', '"header"', '1', 'null', 'true', '[{}]', '{}', ' {} ', '{"a":1}']), 'not an object'];
    default: {
      const depth = f.pick([MAX_HEADER_DEPTH, MAX_HEADER_DEPTH + 1, 100, 5_000, 100_000]);
      const nest = f.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      return [text.replace(/"shape":\[[^\]]*\]/, `"shape":${nest}`).replace(/^\{\}$/, `{"t":${nest}}`), `nested ${depth} deep`];
    }
  }
}

export function randomCase(f: Fuzz): FuzzCase {
  const { header, data } = base(f);
  const kind = f.pick([
    'valid',
    'truncate',
    'truncate',
    'bit-flip',
    'bit-flip',
    'splice',
    'length-field',
    'entry',
    'entry',
    'entry',
    'text',
    'text',
    'data-mismatch',
  ]);
  if (kind === 'entry') {
    const notes: string[] = [];
    for (let i = f.int(1, 3); i > 0; i--) notes.push(mutateEntry(f, header, data.byteLength));
    return { kind, note: notes.join(', '), file: FILE, bytes: joinSafetensors(header, data) };
  }
  if (kind === 'text') {
    const [text, note] = mutateText(f, JSON.stringify(header));
    return { kind, note, file: FILE, bytes: joinSafetensors(text, data) };
  }
  if (kind === 'data-mismatch') {
    // the data section longer or shorter than the offsets say
    const cut = f.int(-Math.min(16, data.byteLength), 16);
    const d = cut < 0 ? data.subarray(0, data.byteLength + cut) : Uint8Array.from([...data, ...f.bytes(cut)]);
    return { kind, note: `data ${cut > 0 ? '+' : ''}${cut} bytes`, file: FILE, bytes: joinSafetensors(header, d) };
  }
  const bytes = joinSafetensors(header, data);
  const dataStart = dataStartOf(bytes);
  switch (kind) {
    case 'truncate': {
      const region = f.pick(['length field', 'header', 'data', 'tensor boundary']);
      const bounds = Object.values(header)
        .flatMap((e) => ((e as Entry).data_offsets as number[] | undefined) ?? [])
        .map((o) => dataStart + o);
      const cut =
        region === 'length field'
          ? f.int(0, 7)
          : region === 'header'
            ? f.int(8, dataStart - 1)
            : region === 'data'
              ? f.int(dataStart, bytes.byteLength)
              : Math.max(0, Math.min(bytes.byteLength, (bounds.length ? f.pick(bounds) : dataStart) + f.int(-1, 1)));
      return { kind, note: `cut at ${cut} (${region})`, file: FILE, bytes: bytes.subarray(0, cut) };
    }
    case 'bit-flip': {
      const inHeader = f.chance(0.7);
      const count = f.int(1, 8);
      return {
        kind,
        note: `${count} bits ${inHeader ? 'in the header' : 'anywhere'}`,
        file: FILE,
        bytes: flipBits(f, bytes, count, 0, inHeader ? dataStart : bytes.byteLength),
      };
    }
    case 'splice':
      return { kind, file: FILE, bytes: spliceBytes(f, bytes) };
    case 'length-field': {
      const real = dataStart - 8;
      const value = f.pick([
        0n,
        1n,
        2n,
        7n,
        BigInt(real - 1),
        BigInt(real + 1),
        BigInt(bytes.byteLength - 8),
        BigInt(bytes.byteLength - 7),
        BigInt(MAX_HEADER_BYTES),
        BigInt(MAX_HEADER_BYTES + 1),
        2n ** 32n,
        2n ** 53n,
        2n ** 63n,
        2n ** 64n - 1n,
        BigInt(f.int(0, 2 ** 31)),
      ]);
      const out = bytes.slice();
      new DataView(out.buffer).setBigUint64(0, value, true);
      return { kind, note: `length ${value}`, file: FILE, bytes: out };
    }
    default:
      return { kind, file: FILE, bytes };
  }
}

const enc = (s: string) => new TextEncoder().encode(s);

/** A file whose first 8 bytes say `length` and whose header text is `text` (or lazily generated). */
function withLength(length: number, text: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + text.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(length), true);
  out.set(text, 8);
  return out;
}

function manyTensors(count: number): Uint8Array {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`"t.${i}.weight":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[${i},${i + 1}]}`);
  return joinSafetensors(`{${parts.join(',')}}`, new Uint8Array(count).fill(7));
}

/** Cases at and past each limit, run once per suite (they cost more than a random case). */
export const FIXED_CASES: (() => FuzzCase)[] = [
  () => ({ kind: 'fixed', note: 'empty file', file: FILE, bytes: new Uint8Array(0), expect: 'HEADER_TOO_SHORT' }),
  () => ({ kind: 'fixed', note: '7 bytes', file: FILE, bytes: new Uint8Array(7), expect: 'HEADER_TOO_SHORT' }),
  () => ({ kind: 'fixed', note: 'header length 0', file: FILE, bytes: new Uint8Array(8), expect: 'HEADER_INVALID_JSON' }),
  () => ({
    kind: 'fixed',
    note: 'header length 2^64 - 1',
    file: FILE,
    bytes: new Uint8Array(8).fill(0xff),
    expect: 'HEADER_LENGTH_OUT_OF_RANGE',
  }),
  () => ({ kind: 'fixed', note: 'header is the whole file', file: FILE, bytes: joinSafetensors('{}', new Uint8Array(0)), expect: 'valid' }),
  // 100 MB of JSON: refused from its length field alone, before a byte of it is read
  () => ({
    kind: 'fixed',
    note: '100 MB header',
    file: FILE,
    source: virtualSource(FILE, 8 + 100e6, withLength(100e6, enc('{"__metadata__":{"k":"'))),
    expect: 'HEADER_TOO_LARGE',
    maxBytesRead: 8,
  }),
  () => ({
    kind: 'fixed',
    note: '100 MB header in a shorter file',
    file: FILE,
    source: virtualSource(FILE, 8 + 50e6, withLength(100e6, enc('{'))),
    expect: 'HEADER_LENGTH_OUT_OF_RANGE',
    maxBytesRead: 8,
  }),
  // just under the limit, and valid: read and parsed (one 60 MB metadata string)
  () => ({
    kind: 'fixed',
    note: '60 MB valid header',
    file: FILE,
    bytes: joinSafetensors(`{"__metadata__":{"k":"${'a'.repeat(60e6)}"}}`, new Uint8Array(0)),
    expect: 'valid',
  }),
  // a JSON bomb under the byte limit: 20 million empty arrays
  () => ({
    kind: 'fixed',
    note: '60 MB of empty arrays',
    file: FILE,
    bytes: joinSafetensors(`{"a":{"dtype":"F32","shape":[${'[],'.repeat(20e6)}[]],"data_offsets":[0,0]}}`, new Uint8Array(0)),
    expect: 'HEADER_TOO_LARGE',
  }),
  () => ({
    kind: 'fixed',
    note: 'nested a million deep',
    file: FILE,
    bytes: joinSafetensors(`{"a":${'['.repeat(1e6)}${']'.repeat(1e6)}}`, new Uint8Array(0)),
    expect: 'HEADER_TOO_LARGE',
  }),
  () => ({
    kind: 'fixed',
    note: `${MAX_TENSORS_PER_HEADER} tensors (the limit)`,
    file: FILE,
    bytes: manyTensors(MAX_TENSORS_PER_HEADER),
    expect: 'valid',
  }),
  () => ({
    kind: 'fixed',
    note: `${MAX_TENSORS_PER_HEADER + 1} tensors`,
    file: FILE,
    bytes: manyTensors(MAX_TENSORS_PER_HEADER + 1),
    expect: 'HEADER_TOO_LARGE',
  }),
  () => ({
    kind: 'fixed',
    note: 'a 60 MB tensor name',
    file: FILE,
    bytes: joinSafetensors(`{"${'n'.repeat(60e6)}":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}`, new Uint8Array(4)),
    expect: 'OFFSET_OUT_OF_RANGE',
  }),
];

export interface CheckpointCase {
  note: string;
  files: { name: string; bytes: Uint8Array }[];
  /** tensor → shard, as the (undamaged) index says */
  weightMap: Record<string, string>;
}

/** A sharded checkpoint (2–3 shards and an index), then one kind of damage to it. */
export function randomCheckpointCase(f: Fuzz): CheckpointCase {
  const shards = f.int(2, 3);
  const shardName = (i: number) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
  const weightMap: Record<string, string> = {};
  const files: CheckpointCase['files'] = [];
  const shardTensors: FixtureTensor[][] = [];
  for (let i = 0; i < shards; i++) {
    const ts = tensors(f).map((t) => ({ ...t, name: `s${i}.${t.name}` }));
    shardTensors.push(ts);
    for (const t of ts) weightMap[t.name] = shardName(i);
    files.push({ name: shardName(i), bytes: joinSafetensors(safetensorsParts(ts).header, safetensorsParts(ts).data) });
  }
  let index = JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap });
  const damage = f.pick([
    'none',
    'shard missing',
    'shard truncated',
    'shard bit-flipped',
    'index damaged',
    'index names absent files',
    'index not an object',
    'tensor in two shards',
    'tensor dropped from its shard',
    'index names a file that is not a shard',
    'no index',
  ]);
  const victim = f.int(0, shards - 1);
  switch (damage) {
    case 'shard missing':
      files.splice(victim, 1);
      break;
    case 'shard truncated':
      files[victim].bytes = files[victim].bytes.subarray(0, f.int(0, files[victim].bytes.byteLength));
      break;
    case 'shard bit-flipped':
      files[victim].bytes = flipBits(f, files[victim].bytes, f.int(1, 8));
      break;
    case 'index damaged':
      index = mutateText(f, index)[0];
      break;
    case 'index names absent files':
      index = JSON.stringify({
        weight_map: { ...weightMap, 'extra.weight': '../../etc/passwd', 'other.weight': 'model-00009-of-00009.safetensors', 'n.weight': 5 },
      });
      break;
    case 'index not an object':
      index = f.pick(['[]', '"x"', '{"weight_map":[]}', '{"weight_map":null}', '{}']);
      break;
    case 'tensor in two shards':
      files.push({ name: 'model-extra.safetensors', bytes: files[victim].bytes.slice() });
      break;
    case 'tensor dropped from its shard': {
      // the index still places it there
      const drop = f.int(0, shardTensors[victim].length - 1);
      const kept = shardTensors[victim].filter((_, i) => i !== drop);
      files[victim] = { name: shardName(victim), bytes: joinSafetensors(safetensorsParts(kept).header, safetensorsParts(kept).data) };
      break;
    }
    case 'index names a file that is not a shard':
      files.push({ name: 'pytorch_model.bin', bytes: new Uint8Array(16) });
      index = JSON.stringify({ weight_map: { ...weightMap, 'bin.weight': 'pytorch_model.bin', 'cfg.weight': 'config.json' } });
      files.push({ name: 'config.json', bytes: enc('{}') });
      weightMap['bin.weight'] = 'pytorch_model.bin';
      weightMap['cfg.weight'] = 'config.json';
      break;
  }
  if (damage !== 'no index') files.push({ name: 'model.safetensors.index.json', bytes: enc(index) });
  return { note: damage, files, weightMap };
}
