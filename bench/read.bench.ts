/**
 * npm run bench:read [-- --gib 2] [--no-page] [--passes 2]
 *
 * Read throughput of the streaming reader on a 2 GiB safetensors file (16 bf16 tensors of
 * 8192 × 8192, real bytes, written to a temporary file and removed after): each tensor's byte range
 * in 64 MiB slices, bytes only and decoded into f32 as a scan does. In the CLI (Node's file source)
 * and in the page (a Blob read in a Web Worker, in Debian's chromium, through Vite's dev server).
 * The file was just written, so it comes from the page cache: this is the reader's cost, not the disk's.
 * Not a test: it prints numbers and asserts nothing.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { fileSource } from '../src/cli/file-source.ts';
import { writeSparseSafetensors } from '../test-fixtures/builders/sparse.ts';
import { measureReads, type ReadRates } from './read/measure.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const gib = Number(arg('gib', '2'));
const passes = Number(arg('passes', '2'));
const root = join(import.meta.dirname, '..');

/** 128 MiB bf16 tensors, their bytes a 16 MiB block of random data repeated. */
function writeBenchFile(path: string): number {
  const count = Math.round(gib * 8);
  const tensors = Array.from({ length: count }, (_, i) => ({
    name: `model.layers.${i}.mlp.up_proj.weight`,
    dtype: 'BF16' as const,
    shape: [8192, 8192],
  }));
  const file = writeSparseSafetensors(path, tensors, () => false);
  const block = new Uint16Array(8 * 2 ** 20);
  for (let i = 0; i < block.length; i++) block[i] = 0x3c00 | ((Math.random() * 0x3ff) & 0x3ff) | (i & 1 ? 0x8000 : 0); // finite bf16 values
  const bytes = new Uint8Array(block.buffer);
  const fd = openSync(path, 'r+');
  try {
    for (let at = file.size - count * 2 ** 27; at < file.size; at += bytes.byteLength)
      writeSync(fd, bytes, 0, Math.min(bytes.byteLength, file.size - at), at);
  } finally {
    closeSync(fd);
  }
  return file.size;
}

async function cli(path: string): Promise<ReadRates[]> {
  const out: ReadRates[] = [];
  for (let i = 0; i < passes; i++) {
    const source = await fileSource(path);
    out.push(await measureReads(source));
    await source.close?.();
  }
  return out;
}

async function page(path: string): Promise<ReadRates[]> {
  const server = await createServer({ root, logLevel: 'error', server: { port: 0, strictPort: false } });
  await server.listen();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
  try {
    const url = `${server.resolvedUrls!.local[0]}bench/read/page.html`;
    const out: ReadRates[] = [];
    for (let i = 0; i < passes; i++) {
      const p = await browser.newPage();
      await p.goto(url);
      await p.locator('#file').setInputFiles(path);
      const handle = await p.waitForFunction(() => (window as unknown as { benchResult?: unknown }).benchResult, undefined, {
        timeout: 600_000,
      });
      const r = (await handle.jsonValue()) as ReadRates | { error: string };
      if ('error' in r) throw new Error(`page: ${r.error}`);
      out.push(r);
      await p.close();
    }
    return out;
  } finally {
    await browser.close();
    await server.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sw-read-bench-'));
try {
  const path = join(dir, 'read-bench.safetensors');
  const size = writeBenchFile(path);
  console.log(
    `streaming reader: ${(size / 2 ** 30).toFixed(2)} GiB file, ${Math.round(gib * 8)} bf16 tensors of 8192 × 8192, 64 MiB slices; ${passes} passes`,
  );
  const rows: [string, ReadRates[]][] = [['CLI (Node file, positional reads)', await cli(path)]];
  if (!process.argv.includes('--no-page')) rows.push(['page (File/Blob slices in a Web Worker)', await page(path)]);
  const f = (x: number) => x.toFixed(2).padStart(6);
  console.log(`${'where'.padEnd(42)}  raw GB/s (per pass)   read + decode to f32 GB/s (per pass)`);
  for (const [where, rs] of rows)
    console.log(`${where.padEnd(42)}  ${rs.map((r) => f(r.rawGBps)).join(' ')}          ${rs.map((r) => f(r.decodeGBps)).join(' ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
