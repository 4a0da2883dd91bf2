// Gram matrix of the short side: G = s² · A Aᵀ (n × n), where A (n × m) is W itself when W is
// wide (rows ≤ cols) and Wᵀ when it is tall, so the sum always runs over the long side.
//
// Tiled: a workgroup makes a TILE × TILE block of G, each thread 4 × 4 entries (rows ty + SIDE·r,
// columns tx + SIDE·c: neighbouring threads read neighbouring words of the tiles), so it has
// SIDE × SIDE = TILE/4 × TILE/4 threads (the 4 is the vec4 rows below). TILE and KT are set from
// gram.ts, which dispatches by TILE and chunks the long side by KT.
// Only blocks on or above the diagonal are computed; each is written to both halves of G.
//
// Accuracy: the products of one K-tile (KT steps) are summed in plain f32, and each tile's sum is
// added to a (hi, lo) pair by Knuth's TwoSum, which keeps the rounding error of every addition.
// The error of an entry is then that of KT-term sums, not of m-term ones: for m in the thousands
// this is what keeps the f32 pipeline's SNR within 1e-4 of float64 (the plain sum is not enough).
//
// Large matrices arrive in chunks of the long side (each chunk its own dispatch): the (hi, lo)
// pairs wait in g and glo between chunks, and the last chunk writes hi + lo.

override TRANSPOSED: bool = false; // false: A(i, k) = w[i·ld + k]; true: A(i, k) = w[k·ld + i]

struct Params {
  n: u32,      // rows of A = size of G
  kLen: u32,   // steps of the long side in this chunk
  ld: u32,     // leading dimension of the chunk as stored in w
  first: u32,  // 1: start from zero (else from g, glo)
  last: u32,   // 1: write hi + lo (else hi to g and lo to glo)
  scale: f32,  // s, a power of two: brings max |w| near 1, so that nothing overflows or underflows
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> glo: array<f32>;

override TILE: u32; // rows and columns of G per workgroup (16, 32 or 64: SIDE² ≤ 256 threads)
override KT: u32; // steps of the long side per tile load (a multiple of TILE / 16)
override SIDE: u32 = TILE / 4u;
override LOADS: u32 = TILE * KT / (SIDE * SIDE); // tile values each thread loads

// K-major tiles: tile[k · TILE + i]
var<workgroup> ta: array<f32, TILE * KT>;
var<workgroup> tb: array<f32, TILE * KT>;

fn loadA(i: u32, k: u32) -> f32 {
  if (i >= p.n || k >= p.kLen) {
    return 0.0;
  }
  if (TRANSPOSED) {
    return w[k * p.ld + i] * p.scale;
  }
  return w[i * p.ld + k] * p.scale;
}

// Fills both tiles for steps k0 .. k0 + KT, with the read pattern that is contiguous in memory.
fn loadTiles(i0: u32, j0: u32, k0: u32, li: u32) {
  for (var s = 0u; s < LOADS; s++) {
    let t = li + s * SIDE * SIDE;
    var i: u32;
    var k: u32;
    if (TRANSPOSED) {
      i = t % TILE; // consecutive threads: consecutive i, contiguous in a row of W
      k = t / TILE;
    } else {
      k = t % KT; // consecutive threads: consecutive k, contiguous in a row of W
      i = t / KT;
    }
    ta[k * TILE + i] = loadA(i0 + i, k0 + k);
    tb[k * TILE + i] = loadA(j0 + i, k0 + k);
  }
}

// TwoSum of hi and x, componentwise: hi becomes the rounded sum and lo gathers what was lost.
fn twoSum(hi: ptr<function, vec4<f32>>, lo: ptr<function, vec4<f32>>, x: vec4<f32>) {
  let s = *hi + x;
  let bb = s - *hi;
  *lo += (*hi - (s - bb)) + (x - bb);
  *hi = s;
}

fn storeRow(i: u32, j0: u32, tx: u32, hi: vec4<f32>, lo: vec4<f32>, mirror: bool) {
  if (i >= p.n) {
    return;
  }
  for (var c = 0u; c < 4u; c++) {
    let j = j0 + tx + SIDE * c;
    if (j < p.n) {
      if (p.last == 1u) {
        let v = hi[c] + lo[c];
        g[i * p.n + j] = v;
        if (mirror) {
          g[j * p.n + i] = v;
        }
      } else {
        g[i * p.n + j] = hi[c];
        glo[i * p.n + j] = lo[c];
      }
    }
  }
}

fn loadRow(i: u32, j0: u32, tx: u32, hi: ptr<function, vec4<f32>>, lo: ptr<function, vec4<f32>>) {
  for (var c = 0u; c < 4u; c++) {
    let j = j0 + tx + SIDE * c;
    if (i < p.n && j < p.n) {
      (*hi)[c] = g[i * p.n + j];
      (*lo)[c] = glo[i * p.n + j];
    }
  }
}

@compute @workgroup_size(SIDE, SIDE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let bi = wg.y;
  let bj = wg.x;
  if (bj < bi) {
    return; // below the diagonal: the mirror of block (bj, bi)
  }
  let i0 = bi * TILE;
  let j0 = bj * TILE;
  let tx = lid.x;
  let ty = lid.y;
  // Row r of this thread's 4 × 4 entries is hi_r (+ lo_r): vectors, not arrays, so that no
  // compiler has to keep an indexed array in memory.
  var hi0 = vec4<f32>();
  var hi1 = vec4<f32>();
  var hi2 = vec4<f32>();
  var hi3 = vec4<f32>();
  var lo0 = vec4<f32>();
  var lo1 = vec4<f32>();
  var lo2 = vec4<f32>();
  var lo3 = vec4<f32>();
  if (p.first == 0u) {
    loadRow(i0 + ty, j0, tx, &hi0, &lo0);
    loadRow(i0 + ty + SIDE, j0, tx, &hi1, &lo1);
    loadRow(i0 + ty + 2u * SIDE, j0, tx, &hi2, &lo2);
    loadRow(i0 + ty + 3u * SIDE, j0, tx, &hi3, &lo3);
  }
  for (var k0 = 0u; k0 < p.kLen; k0 += KT) {
    loadTiles(i0, j0, k0, li);
    workgroupBarrier();
    var acc0 = vec4<f32>();
    var acc1 = vec4<f32>();
    var acc2 = vec4<f32>();
    var acc3 = vec4<f32>();
    for (var kk = 0u; kk < KT; kk++) {
      let o = kk * TILE;
      let b = vec4<f32>(tb[o + tx], tb[o + tx + SIDE], tb[o + tx + 2u * SIDE], tb[o + tx + 3u * SIDE]);
      acc0 += ta[o + ty] * b;
      acc1 += ta[o + ty + SIDE] * b;
      acc2 += ta[o + ty + 2u * SIDE] * b;
      acc3 += ta[o + ty + 3u * SIDE] * b;
    }
    workgroupBarrier();
    twoSum(&hi0, &lo0, acc0);
    twoSum(&hi1, &lo1, acc1);
    twoSum(&hi2, &lo2, acc2);
    twoSum(&hi3, &lo3, acc3);
  }
  let mirror = bi != bj;
  storeRow(i0 + ty, j0, tx, hi0, lo0, mirror);
  storeRow(i0 + ty + SIDE, j0, tx, hi1, lo1, mirror);
  storeRow(i0 + ty + 2u * SIDE, j0, tx, hi2, lo2, mirror);
  storeRow(i0 + ty + 3u * SIDE, j0, tx, hi3, lo3, mirror);
}
