// The power-law fit's scan over candidate xmins (WeightWatcher's fit='PL', the TypeScript
// reference is src/core/metrics/powerlaw.ts): one candidate i per invocation computes the KS
// distance D_i = max_k |1 − (x_{i+k} / x_i)^(1 − α_i) − k / n_i| of its tail; then one workgroup
// reduces to the smallest D and its first index.
//
// WGSL has no f64, so the logs arrive as two f32 each (hi + lo = ln x to about 1e-14): the
// differences ln x_{i+k} − ln x_i keep their digits and D is right to about 1e-6. The caller then
// recomputes in float64 every candidate within a tolerance of the GPU's minimum and takes the first
// exact minimum among them: the same candidate as the reference, however close the near-ties.
// α_i comes from the caller (float64 suffix sums); α ≤ 1 gives D = 1 as in the reference, and a
// negative α asks the caller to do that candidate itself (an infinite α: a tail of equal values).

struct Params {
  count: u32, // candidates: the fitted points but the last
  n: u32,     // fitted points
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logsHi: array<f32>;
@group(0) @binding(2) var<storage, read> logsLo: array<f32>;
@group(0) @binding(3) var<storage, read> alphas: array<f32>;
@group(0) @binding(4) var<storage, read_write> ds: array<f32>;
// best[0] = smallest D (as f32 bits), best[1] = its first index
@group(0) @binding(5) var<storage, read_write> best: array<u32>;

override WG: u32; // candidates per workgroup, set from powerlaw-xmin.ts

@compute @workgroup_size(WG)
fn distances(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.count) {
    return;
  }
  let alpha = alphas[i];
  if (alpha < 0.0) {
    ds[i] = -1.0; // for the caller
    return;
  }
  if (!(alpha > 1.0)) {
    ds[i] = 1.0;
    return;
  }
  let ni = p.n - i;
  let c = 1.0 - alpha;
  let hi0 = logsHi[i];
  let lo0 = logsLo[i];
  let inv = 1.0 / f32(ni);
  var d = 0.0;
  for (var k = 0u; k < ni; k++) {
    let delta = (logsHi[i + k] - hi0) + (logsLo[i + k] - lo0);
    d = max(d, abs(1.0 - exp(c * delta) - f32(k) * inv));
  }
  ds[i] = d;
}

var<workgroup> bestD: array<f32, 256>;
var<workgroup> bestI: array<u32, 256>;

// One workgroup of 256: the smallest D, ties to the smaller index (numpy's argmin). Candidates the
// caller must do (D = −1) are left out here.
@compute @workgroup_size(256)
fn argmin(@builtin(local_invocation_index) li: u32) {
  var d = 3.0e38;
  var at = 0xffffffffu;
  for (var i = li; i < p.count; i += 256u) {
    let v = ds[i];
    if (v >= 0.0 && v < d) {
      d = v;
      at = i;
    }
  }
  bestD[li] = d;
  bestI[li] = at;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (li < s) {
      let od = bestD[li + s];
      let oi = bestI[li + s];
      if (od < bestD[li] || (od == bestD[li] && oi < bestI[li])) {
        bestD[li] = od;
        bestI[li] = oi;
      }
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    best[0] = bitcast<u32>(bestD[0]);
    best[1] = bestI[0];
  }
}
