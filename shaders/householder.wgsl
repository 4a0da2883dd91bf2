// Householder reduction of the symmetric n × n matrix a (full storage, row-major, in place) to
// tridiagonal form d, e, blocked as LAPACK's dsytrd/dlatrd: within a panel of NB columns the
// updates of the trailing matrix are deferred and kept as V and W (A ← A − V Wᵀ − W Vᵀ), so the
// trailing matrix is read once per column (the symmetric matrix-vector product) and written once
// per panel (one rank-2·NB update, a tiled product).
//
// (Small matrices take the one-workgroup unblocked reduction of householder-small.wgsl instead.)
//
// Per column k (j = k − k0 within the panel), three dispatches:
//   column_start  (1 workgroup)  row k brought up to date, the reflector v and τ, and the dot
//                                products Wᵀv, Vᵀv with the panel's earlier columns
//   symv          (many)         partial sums of A22 v by segments of the columns
//   column_finish (1 workgroup)  y = τ (A22 v − V Wᵀv − W Vᵀv), w = y − (τ/2)(yᵀv) v
// and per panel: trailing        A[k1.., k1..] −= V Wᵀ + W Vᵀ
// Every dispatch reads its column from a slot of one uniform buffer (dynamic offset), so the whole
// reduction is recorded at once, with no round trip to the CPU.
//
// reduceSum, reduceMax and their scratch array `red` are reductions.wgsl's, put before this text.
// The sizes the TypeScript side also uses are `override`s with no default, set from tridiagonal.ts.

override NB: u32; // columns per panel (the V and W buffers hold NB columns each)
override DOTS: u32; // where the dot products with the panel's columns start in work (after τ)
override PART: u32; // where the symv partial sums start in work (≥ DOTS + 2·NB: after the dot products)
override SYMV_ROWS: u32; // rows of A22 v per symv workgroup (≤ 64: its 4 lanes per row share red)
override TRAILING_TILE: u32; // rows and columns of A per trailing workgroup (16, 32 or 64; see trailing)

struct Params {
  n: u32,
  k: u32,      // the column (panel start k0 for the trailing update)
  j: u32,      // k − k0; for the trailing update: jb, the panel's width
  segLen: u32, // symv: columns per segment
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
// V_c at vw[c·n ..], W_c at vw[(NB + c)·n ..], indexed by the row of A
@group(0) @binding(2) var<storage, read_write> vw: array<f32>;
// work[0] = τ; work[DOTS + c] = W_cᵀv, work[DOTS + NB + c] = V_cᵀv; symv partial sums from PART
@group(0) @binding(3) var<storage, read_write> work: array<f32>;
// d[0..n) then e[0..n-1)
@group(0) @binding(4) var<storage, read_write> tri: array<f32>;

fn V(c: u32, i: u32) -> f32 {
  return vw[c * p.n + i];
}
fn W(c: u32, i: u32) -> f32 {
  return vw[(NB + c) * p.n + i];
}

@compute @workgroup_size(256)
fn column_start(@builtin(local_invocation_index) li: u32) {
  let n = p.n;
  let k = p.k;
  let j = p.j;
  let row = k * n;
  // Row k with this panel's earlier reflectors applied: a[k, t] −= Σ_c V_c[k] W_c[t] + W_c[k] V_c[t].
  for (var t = k + li; t < n; t += 256u) {
    var x = a[row + t];
    for (var c = 0u; c < j; c++) {
      x -= V(c, k) * W(c, t) + W(c, k) * V(c, t);
    }
    a[row + t] = x;
  }
  storageBarrier();
  // The reflector H = I − τ v vᵀ with H a[k, k+1..] = β e1 (LAPACK dlarfg), the norm scaled so
  // that it neither overflows nor underflows.
  var big = 0.0;
  for (var t = k + 2u + li; t < n; t += 256u) {
    big = max(big, abs(a[row + t]));
  }
  big = reduceMax(li, big, 256u);
  var ss = 0.0;
  if (big > 0.0) {
    for (var t = k + 2u + li; t < n; t += 256u) {
      let q = a[row + t] / big;
      ss += q * q;
    }
  }
  let xnorm = big * sqrt(reduceSum(li, ss, 256u));
  let alpha = a[row + k + 1u];
  let jv = p.j;
  if (li == 0u) {
    tri[k] = a[row + k];
  }
  if (xnorm == 0.0) {
    // Already reduced: τ = 0, and v stays zero so that this column changes nothing.
    if (li == 0u) {
      tri[n + k] = alpha;
      work[0] = 0.0;
    }
  } else {
    let sgn = select(-1.0, 1.0, alpha < 0.0); // β = −sign(α)·‖(α, x)‖
    let m = max(abs(alpha), xnorm);
    let beta = sgn * m * sqrt((alpha / m) * (alpha / m) + (xnorm / m) * (xnorm / m));
    let tau = (beta - alpha) / beta;
    let scal = 1.0 / (alpha - beta);
    for (var t = k + 1u + li; t < n; t += 256u) {
      vw[jv * n + t] = select(a[row + t] * scal, 1.0, t == k + 1u);
    }
    if (li == 0u) {
      tri[n + k] = beta;
      work[0] = tau;
    }
  }
  storageBarrier();
  // W_cᵀv and V_cᵀv for c < j: 8 groups of 32 threads, one dot product per group at a time.
  let grp = li / 32u;
  let lane = li % 32u;
  let count = 2u * j;
  for (var q0 = 0u; q0 < count; q0 += 8u) {
    let q = q0 + grp;
    var acc = 0.0;
    if (q < count) {
      for (var t = k + 1u + lane; t < n; t += 32u) {
        let other = select(V(q - j, t), W(q, t), q < j);
        acc += other * V(jv, t);
      }
    }
    red[li] = acc;
    workgroupBarrier();
    for (var s = 16u; s > 0u; s >>= 1u) {
      if (lane < s) {
        red[li] += red[li + s];
      }
      workgroupBarrier();
    }
    if (lane == 0u && q < count) {
      let slot = select(DOTS + NB + (q - j), DOTS + q, q < j);
      work[slot] = red[li];
    }
    workgroupBarrier();
  }
}

// Partial sums of A22 v: workgroup (x, s) takes SYMV_ROWS rows and segment s of the columns; the 4
// lanes of a row split the segment. A is symmetric, so row i of A22 v is read down column i:
// neighbouring threads read neighbouring words.
@compute @workgroup_size(SYMV_ROWS, 4)
fn symv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n = p.n;
  let base = p.k + 1u;
  let i = base + wg.x * SYMV_ROWS + lid.x;
  let jStart = base + wg.y * p.segLen;
  let jEnd = min(jStart + p.segLen, n);
  var acc = 0.0;
  if (i < n) {
    for (var c = jStart + lid.y; c < jEnd; c += 4u) {
      acc += a[c * n + i] * V(p.j, c);
    }
  }
  let li = lid.y * SYMV_ROWS + lid.x;
  red[li] = acc;
  workgroupBarrier();
  if (lid.y == 0u && i < n) {
    work[PART + wg.y * n + i] = red[li] + red[li + SYMV_ROWS] + red[li + 2u * SYMV_ROWS] + red[li + 3u * SYMV_ROWS];
  }
}

@compute @workgroup_size(256)
fn column_finish(@builtin(local_invocation_index) li: u32) {
  let n = p.n;
  let k = p.k;
  let j = p.j;
  let tau = work[0];
  let segs = (n - k - 1u + p.segLen - 1u) / p.segLen;
  var pv = 0.0;
  for (var i = k + 1u + li; i < n; i += 256u) {
    var y = 0.0;
    for (var s = 0u; s < segs; s++) {
      y += work[PART + s * n + i];
    }
    for (var c = 0u; c < j; c++) {
      y -= V(c, i) * work[DOTS + c] + W(c, i) * work[DOTS + NB + c];
    }
    y *= tau;
    vw[(NB + j) * n + i] = y;
    pv += y * V(j, i);
  }
  let half = 0.5 * tau * reduceSum(li, pv, 256u);
  storageBarrier();
  for (var i = k + 1u + li; i < n; i += 256u) {
    vw[(NB + j) * n + i] -= half * V(j, i);
  }
}

// A[k1.., k1..] −= V Wᵀ + W Vᵀ over the panel's jb columns, as one product [V W] · [W V]ᵀ of
// 2·jb steps, by TRAILING_TILE × TRAILING_TILE blocks on or above the diagonal, each written to
// both halves. Each invocation makes 4 × 4 entries (rows ty + side·r, columns tx + side·c): acc is
// a function-scope array, whose size must be a const-expression, so the 4 is fixed here and the
// invocations per side follow from the tile (side² ≤ 256, and the loads must tile evenly).
override TRAILING_SIDE: u32 = TRAILING_TILE / 4u;
const TRAILING_STEPS: u32 = 32u; // steps of the product per load of the tiles
override TRAILING_LOADS: u32 = TRAILING_TILE * TRAILING_STEPS / (TRAILING_SIDE * TRAILING_SIDE);
var<workgroup> tx_: array<f32, TRAILING_TILE * TRAILING_STEPS>;
var<workgroup> ty_: array<f32, TRAILING_TILE * TRAILING_STEPS>;

@compute @workgroup_size(TRAILING_SIDE, TRAILING_SIDE)
fn trailing(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  if (wg.x < wg.y) {
    return;
  }
  let n = p.n;
  let jb = p.j;
  let k1 = p.k + jb;
  let r0 = k1 + wg.y * TRAILING_TILE;
  let c0 = k1 + wg.x * TRAILING_TILE;
  var acc: array<f32, 16>;
  let steps = 2u * jb;
  for (var q0 = 0u; q0 < steps; q0 += TRAILING_STEPS) {
    for (var s = 0u; s < TRAILING_LOADS; s++) {
      let t = li + s * TRAILING_SIDE * TRAILING_SIDE;
      let i = t % TRAILING_TILE;
      let q = q0 + t / TRAILING_TILE;
      var xv = 0.0;
      var yv = 0.0;
      if (q < steps) {
        let r = r0 + i;
        let c = c0 + i;
        if (r < n) {
          xv = select(W(q - jb, r), V(q, r), q < jb);
        }
        if (c < n) {
          yv = select(V(q - jb, c), W(q, c), q < jb);
        }
      }
      tx_[t] = xv;
      ty_[t] = yv;
    }
    workgroupBarrier();
    for (var qq = 0u; qq < TRAILING_STEPS; qq++) {
      for (var r = 0u; r < 4u; r++) {
        let xr = tx_[qq * TRAILING_TILE + lid.y + TRAILING_SIDE * r];
        for (var c = 0u; c < 4u; c++) {
          acc[r * 4u + c] += xr * ty_[qq * TRAILING_TILE + lid.x + TRAILING_SIDE * c];
        }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) {
      let row = r0 + lid.y + TRAILING_SIDE * r;
      let col = c0 + lid.x + TRAILING_SIDE * c;
      if (row < n && col < n) {
        let v = a[row * n + col] - acc[r * 4u + c];
        a[row * n + col] = v;
        if (wg.x != wg.y) {
          a[col * n + row] = v;
        }
      }
    }
  }
}
