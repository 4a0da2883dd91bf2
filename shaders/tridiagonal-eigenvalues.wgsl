// All eigenvalues of the symmetric tridiagonal matrix (d, e) by bisection on Sturm counts, one
// invocation per eigenvalue (LAPACK dstebz's method). Each invocation is independent, O(n) per
// count and about 40 counts: O(n²) in all, in parallel, where QL would be O(n²) on one CPU thread.
// The count is backward stable (Kahan): each result is the eigenvalue of a matrix within a few
// ulps of (d, e), the same error as the f32 reduction that made (d, e).

override WG: u32; // eigenvalues per workgroup, set from tridiagonal.ts

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// d[0..n) then e[0..n-1)
@group(0) @binding(1) var<storage, read> tri: array<f32>;
@group(0) @binding(2) var<storage, read_write> lambda: array<f32>;

const SAFE_MIN: f32 = 1.1754944e-38;
const MAX_STEPS: u32 = 96u; // bisection halves the interval; 96 reaches any f32 from any start

// How many eigenvalues are below x.
fn countBelow(x: f32, pivmin: f32) -> u32 {
  let n = p.n;
  var q = tri[0] - x;
  if (abs(q) < pivmin) {
    q = -pivmin;
  }
  var c = select(0u, 1u, q < 0.0);
  for (var r = 1u; r < n; r++) {
    let e = tri[n + r - 1u];
    q = tri[r] - x - e * e / q;
    if (abs(q) < pivmin) {
      q = -pivmin;
    }
    c += select(0u, 1u, q < 0.0);
  }
  return c;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = p.n;
  let i = gid.x;
  if (i >= n) {
    return;
  }
  // Gershgorin's interval holds every eigenvalue.
  var lo = tri[0];
  var hi = tri[0];
  var maxE2 = 0.0;
  for (var r = 0u; r < n; r++) {
    var rad = 0.0;
    if (r > 0u) {
      rad += abs(tri[n + r - 1u]);
    }
    if (r + 1u < n) {
      let e = tri[n + r];
      rad += abs(e);
      maxE2 = max(maxE2, e * e);
    }
    lo = min(lo, tri[r] - rad);
    hi = max(hi, tri[r] + rad);
  }
  let pivmin = SAFE_MIN * max(1.0, maxE2);
  let span = max(abs(lo), abs(hi));
  lo -= 4.0e-7 * span + pivmin;
  hi += 4.0e-7 * span + pivmin;
  // Far below ε·‖T‖ the digits are noise (the reduction's error is larger): stop there, so that
  // eigenvalues near zero do not take a hundred halvings for nothing.
  let tol = 1.0e-10 * span + pivmin;
  // The i-th smallest eigenvalue λ_i: countBelow(x) ≤ i for x ≤ λ_i, > i above it.
  for (var step = 0u; step < MAX_STEPS; step++) {
    let mid = lo + 0.5 * (hi - lo);
    if (mid <= lo || mid >= hi || hi - lo <= tol) {
      break;
    }
    if (countBelow(mid, pivmin) > i) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  lambda[i] = lo + 0.5 * (hi - lo);
}
