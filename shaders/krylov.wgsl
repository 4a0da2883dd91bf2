// The fast mode's Krylov kernels (see src/engine/webgpu/fast/krylov.ts for the method):
//   gemm      out = β·out + α·P·X for skinny blocks: products with W (P = W or Wᵀ, X a block of
//             probe vectors) and the Gram–Schmidt steps against the basis
//   norm_inv  the diagonal matrix that normalizes each column of a block
// The same operations run in float64 on the CPU (fast/machine.ts); the script that strings them
// together is shared, so the CPU run is the reference for this one.

struct Gemm {
  M: u32,
  N: u32,
  K: u32,
  transP: u32, // 1: P(i, k) = p[pOff + k·ldp + i]; 0: p[pOff + i·ldp + k]
  ldp: u32,
  pOff: u32,
  ldx: u32,
  xOff: u32,
  ldo: u32,
  oOff: u32,
  maskMod: u32, // > 0: X(k, c) counts only where k mod maskMod = c
  pad: u32,
  alpha: f32,
  beta: f32, // 0: out is not read
}

@group(0) @binding(0) var<uniform> g: Gemm;
@group(0) @binding(1) var<storage, read> p: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;

// Set from fast/gpu-machine.ts, which dispatches by TM and TN. Thread (tx, ty) makes rows
// ty + SIDE_M·r (r < 4: acc0..acc3) and columns tx + SIDE_N·e (e < 2: a vec2), so a workgroup has
// SIDE_N × SIDE_M = TN/2 × TM/4 threads (at most 256).
override TM: u32; // rows of out per workgroup (a multiple of 4)
override TN: u32; // columns of out per workgroup (even)
override KT: u32; // steps of K per tile load (the loads must spread evenly over the threads)
override SIDE_M: u32 = TM / 4u;
override SIDE_N: u32 = TN / 2u;
override THREADS: u32 = SIDE_M * SIDE_N;

var<workgroup> tp: array<f32, TM * KT>; // [k · TM + i]
var<workgroup> tx: array<f32, TN * KT>; // [k · TN + c]

fn loadP(i: u32, k: u32) -> f32 {
  if (i >= g.M || k >= g.K) {
    return 0.0;
  }
  if (g.transP == 1u) {
    return p[g.pOff + k * g.ldp + i];
  }
  return p[g.pOff + i * g.ldp + k];
}

fn loadX(k: u32, c: u32) -> f32 {
  if (k >= g.K || c >= g.N || (g.maskMod > 0u && k % g.maskMod != c)) {
    return 0.0;
  }
  return x[g.xOff + k * g.ldx + c];
}

@compute @workgroup_size(SIDE_N, SIDE_M)
fn gemm(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let i0 = wg.y * TM;
  let c0 = wg.x * TN;
  var acc0 = vec2<f32>();
  var acc1 = vec2<f32>();
  var acc2 = vec2<f32>();
  var acc3 = vec2<f32>();
  for (var k0 = 0u; k0 < g.K; k0 += KT) {
    for (var s = 0u; s < TM * KT / THREADS; s++) {
      let t = li + s * THREADS;
      // contiguous reads whichever way P is stored
      var i: u32;
      var k: u32;
      if (g.transP == 1u) {
        i = t % TM;
        k = t / TM;
      } else {
        k = t % KT;
        i = t / KT;
      }
      tp[k * TM + i] = loadP(i0 + i, k0 + k);
    }
    for (var s = 0u; s < TN * KT / THREADS; s++) {
      let t = li + s * THREADS;
      tx[t] = loadX(k0 + t / TN, c0 + t % TN);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < KT; kk++) {
      let b = vec2<f32>(tx[kk * TN + lid.x], tx[kk * TN + lid.x + SIDE_N]);
      acc0 += tp[kk * TM + lid.y] * b;
      acc1 += tp[kk * TM + lid.y + SIDE_M] * b;
      acc2 += tp[kk * TM + lid.y + 2u * SIDE_M] * b;
      acc3 += tp[kk * TM + lid.y + 3u * SIDE_M] * b;
    }
    workgroupBarrier();
  }
  store(i0 + lid.y, c0 + lid.x, acc0);
  store(i0 + lid.y + SIDE_M, c0 + lid.x, acc1);
  store(i0 + lid.y + 2u * SIDE_M, c0 + lid.x, acc2);
  store(i0 + lid.y + 3u * SIDE_M, c0 + lid.x, acc3);
}

fn store(i: u32, c: u32, v: vec2<f32>) {
  if (i >= g.M) {
    return;
  }
  for (var e = 0u; e < 2u; e++) {
    let col = c + SIDE_N * e;
    if (col < g.N) {
      let at = g.oOff + i * g.ldo + col;
      var r = g.alpha * v[e];
      if (g.beta != 0.0) {
        r += g.beta * o[at];
      }
      o[at] = r;
    }
  }
}

// norm_inv: rinv = diag(1 / sqrt(s_cc)) for the b × b Gram s of a block; a column whose squared
// norm is not above deadRel · max s_cc (a probe whose Krylov space ran out) gets 0.
struct Norm {
  b: u32,
  deadRel: f32,
}

@group(0) @binding(0) var<uniform> nrm: Norm;
@group(0) @binding(1) var<storage, read> sIn: array<f32>;
@group(0) @binding(2) var<storage, read_write> rinv: array<f32>;

@compute @workgroup_size(64)
fn norm_inv(@builtin(local_invocation_index) li: u32) {
  let b = nrm.b;
  var maxDiag = 0.0;
  for (var i = 0u; i < b; i++) {
    maxDiag = max(maxDiag, sIn[i * b + i]);
  }
  for (var e = li; e < b * b; e += 64u) {
    let r = e / b;
    let c = e % b;
    var v = 0.0;
    let d = sIn[c * b + c];
    if (r == c && d > nrm.deadRel * maxDiag && d > 0.0) {
      v = 1.0 / sqrt(d);
    }
    rinv[e] = v;
  }
}
