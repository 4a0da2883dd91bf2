// Householder reduction of a small symmetric matrix to tridiagonal form, unblocked, the whole of
// it in one workgroup and one dispatch. Below a few hundred rows the blocked reduction's three
// dispatches per column (householder.wgsl) cost more than their work: on a GPU the launches, on
// SwiftShader the launches and the barriers. Same bindings as householder.wgsl (one bind group
// serves both); v lives in V_0 and w in W_0 of the panel buffer. reduceSum and reduceMax are
// reductions.wgsl's, put before this text; the overrides are set from tridiagonal.ts.

override NB: u32; // where W_0 starts in vw (householder.wgsl's panel width)
override SMALL_WG: u32; // threads (a power of two ≤ 256, the reductions' width)

struct Params {
  n: u32,
  k: u32,
  j: u32,
  segLen: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> vw: array<f32>;
@group(0) @binding(3) var<storage, read_write> work: array<f32>;
// d[0..n) then e[0..n-1)
@group(0) @binding(4) var<storage, read_write> tri: array<f32>;

@compute @workgroup_size(SMALL_WG)
fn small(@builtin(local_invocation_index) li: u32) {
  let n = p.n;
  for (var k = 0u; k + 1u < n; k++) {
    let row = k * n;
    var big = 0.0;
    for (var t = k + 2u + li; t < n; t += SMALL_WG) {
      big = max(big, abs(a[row + t]));
    }
    big = reduceMax(li, big, SMALL_WG);
    var ss = 0.0;
    if (big > 0.0) {
      for (var t = k + 2u + li; t < n; t += SMALL_WG) {
        let q = a[row + t] / big;
        ss += q * q;
      }
    }
    let xnorm = big * sqrt(reduceSum(li, ss, SMALL_WG));
    let alpha = a[row + k + 1u];
    var tau = 0.0;
    var scal = 0.0;
    var beta = alpha;
    if (xnorm != 0.0) {
      let m = max(abs(alpha), xnorm);
      beta = select(-1.0, 1.0, alpha < 0.0) * m * sqrt((alpha / m) * (alpha / m) + (xnorm / m) * (xnorm / m));
      tau = (beta - alpha) / beta;
      scal = 1.0 / (alpha - beta);
    }
    if (li == 0u) {
      tri[k] = a[row + k];
      tri[n + k] = beta;
    }
    for (var t = k + 1u + li; t < n; t += SMALL_WG) {
      vw[t] = select(a[row + t] * scal, 1.0, t == k + 1u && xnorm != 0.0);
    }
    storageBarrier();
    // p = τ A22 v (down the columns: neighbouring threads, neighbouring words), then w.
    var pv = 0.0;
    for (var i = k + 1u + li; i < n; i += SMALL_WG) {
      var y = 0.0;
      for (var c = k + 1u; c < n; c++) {
        y += a[c * n + i] * vw[c];
      }
      y *= tau;
      vw[NB * n + i] = y;
      pv += y * vw[i];
    }
    let half = 0.5 * tau * reduceSum(li, pv, SMALL_WG);
    for (var i = k + 1u + li; i < n; i += SMALL_WG) {
      vw[NB * n + i] -= half * vw[i];
    }
    storageBarrier();
    // A22 −= v wᵀ + w vᵀ, row by row.
    for (var r = k + 1u; r < n; r++) {
      let vr = vw[r];
      let wr = vw[NB * n + r];
      for (var c = k + 1u + li; c < n; c += SMALL_WG) {
        a[r * n + c] -= vr * vw[NB * n + c] + wr * vw[c];
      }
    }
    storageBarrier();
  }
  if (li == 0u) {
    tri[n - 1u] = a[(n - 1u) * n + n - 1u];
  }
}
