// Householder reduction of the symmetric n × n matrix a (full storage, row-major, in place) to
// tridiagonal form d, e, blocked as LAPACK's dsytrd/dlatrd: within a panel of NB columns the
// updates of the trailing matrix are deferred and kept as V and W (A ← A − V Wᵀ − W Vᵀ), so the
// trailing matrix is read once per column (the symmetric matrix-vector product) and written once
// per panel (one rank-2·NB update, a tiled product).
//
// (Small matrices take the one-workgroup unblocked reduction of householder-small.wgsl instead.)
//
// Per column k (j = k − k0 within the panel), four dispatches, each spread over the whole GPU but
// the second: one workgroup doing O(n·NB) work is what bounds a column's time on a GPU (its loads
// wait one after another), so every such loop is split by rows over workgroups and by 4 lanes:
//   row_update (j > 0)  W_{j−1} finished (w = y − ½τ(yᵀv) v, from the last column's partial sums),
//                       and row k brought up to date: a[k, t] −= Σ_c V_c[k] W_c[t] + W_c[k] V_c[t]
//   reflector (1)       the reflector v and τ of row k
//   symv                partial sums of A22 v by segments of the columns, and per block of rows
//                       its share of the dot products Wᵀv, Vᵀv with the panel's earlier columns
//   finish              y = τ (A22 v − V Wᵀv − W Vᵀv) per block of rows, and the block's yᵀv
// and per panel: w_finish (the panel's last w), trailing  A[k1.., k1..] −= V Wᵀ + W Vᵀ
// Every dispatch reads its column from a slot of one uniform buffer (dynamic offset), so the whole
// reduction is recorded at once (in command buffers of a few panels), with no round trip to the CPU.
//
// reduceSum, reduceMax and their scratch array `red` are reductions.wgsl's, put before this text.
// The sizes the TypeScript side also uses are `override`s with no default, set from tridiagonal.ts.

override NB: u32; // columns per panel (the V and W buffers hold NB columns each; 2·NB ≤ ROWS)
override PART: u32; // where the symv partial sums start in work (after τ)
override ROWS: u32; // rows per workgroup of row_update, symv and finish (64: 4 lanes each, 256 invocations)
override TRAILING_TILE: u32; // rows and columns of A per trailing workgroup (16, 32 or 64; see trailing)
override STRIDE: u32; // floats per block of ROWS rows in parts (≥ 2·NB + 1): its shares of the 2·NB dot products, then of yᵀv

// Where a block's share of yᵀv sits among its STRIDE floats.
override YV: u32 = 2u * NB;

struct Params {
  n: u32,
  k: u32,      // the column (panel start k0 for the panel's dispatches)
  j: u32,      // k − k0; for the panel's dispatches: jb, the panel's width
  segLen: u32, // symv: columns per segment
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
// V_c at vw[c·n ..], W_c at vw[(NB + c)·n ..], indexed by the row of A
@group(0) @binding(2) var<storage, read_write> vw: array<f32>;
// work[0] = τ of the column; symv partial sums from PART (segment s, row i at PART + s·n + i)
@group(0) @binding(3) var<storage, read_write> work: array<f32>;
// d[0..n) then e[0..n-1)
@group(0) @binding(4) var<storage, read_write> tri: array<f32>;
// block b's shares: parts[b·STRIDE + q] of W_qᵀv (q < j) and V_{q−j}ᵀv (j ≤ q < 2j), parts[b·STRIDE + YV] of yᵀv
@group(0) @binding(5) var<storage, read_write> parts: array<f32>;

fn V(c: u32, i: u32) -> f32 {
  return vw[c * p.n + i];
}
fn W(c: u32, i: u32) -> f32 {
  return vw[(NB + c) * p.n + i];
}

// ½ τ yᵀv of the column whose n − first rows start at `first` (its finish left yᵀv by blocks and τ
// in work[0]): w = y − that · v. Every invocation of the workgroup gets it.
fn halfTauYv(li: u32, first: u32) -> f32 {
  let blocks = (p.n - first + ROWS - 1u) / ROWS;
  var s = 0.0;
  for (var b = li; b < blocks; b += 4u * ROWS) {
    s += parts[b * STRIDE + YV];
  }
  return 0.5 * work[0] * reduceSum(li, s, 4u * ROWS);
}

// Row k with the panel's earlier reflectors applied, for t in this workgroup's ROWS columns of it;
// first W_{j−1} = y − ½τ(yᵀv) v, which its finish left as y. Entry k of W_{j−1} stays y in memory
// (every workgroup reads it, so none may change it; nothing reads it after this column), the rest
// is written finished.
@compute @workgroup_size(ROWS, 4)
fn row_update(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = p.n;
  let k = p.k;
  let last = p.j - 1u;
  let half = halfTauYv(li, k);
  let wk = W(last, k) - half * V(last, k);
  let t = k + wg.x * ROWS + lid.x;
  var acc = 0.0;
  if (t < n) {
    for (var c = lid.y; c < last; c += 4u) {
      acc += V(c, k) * W(c, t) + W(c, k) * V(c, t);
    }
    if (lid.y == 0u) {
      let wt = W(last, t) - half * V(last, t);
      if (t > k) {
        vw[(NB + last) * n + t] = wt;
      }
      acc += V(last, k) * wt + wk * V(last, t);
    }
  }
  red[li] = acc;
  workgroupBarrier();
  if (lid.y == 0u && t < n) {
    a[k * n + t] -= red[li] + red[li + ROWS] + red[li + 2u * ROWS] + red[li + 3u * ROWS];
  }
}

// The reflector H = I − τ v vᵀ with H a[k, k+1..] = β e1 (LAPACK dlarfg), the norm scaled so that
// it neither overflows nor underflows; v goes to V_j (zero where the column is already reduced).
@compute @workgroup_size(256)
fn reflector(@builtin(local_invocation_index) li: u32) {
  let n = p.n;
  let k = p.k;
  let row = k * n;
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
      vw[p.j * n + t] = select(a[row + t] * scal, 1.0, t == k + 1u);
    }
    if (li == 0u) {
      tri[n + k] = beta;
      work[0] = tau;
    }
  }
}

// Workgroup (x, s < segments): partial sums of A22 v over ROWS rows and segment s of the columns,
// the 4 lanes of a row splitting the segment. A is symmetric, so row i of A22 v is read down
// column i: neighbouring invocations read neighbouring words. Workgroup (x, segments): block x's
// shares of the dot products of v with the panel's earlier W_c and V_c.
@compute @workgroup_size(ROWS, 4)
fn symv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = p.n;
  let j = p.j;
  let base = p.k + 1u;
  let i = base + wg.x * ROWS + lid.x;
  let segments = (n - base + p.segLen - 1u) / p.segLen;
  if (wg.y == segments) {
    let vi = select(0.0, V(j, i), i < n);
    let count = 2u * j;
    for (var q0 = 0u; q0 < count; q0 += 4u) {
      let q = q0 + lid.y;
      var x = 0.0;
      if (q < count && i < n) {
        if (q < j) {
          x = W(q, i) * vi;
        } else {
          x = V(q - j, i) * vi;
        }
      }
      red[li] = x;
      workgroupBarrier();
      for (var s = ROWS / 2u; s > 0u; s >>= 1u) {
        if (lid.x < s) {
          red[li] += red[li + s];
        }
        workgroupBarrier();
      }
      if (lid.x == 0u && q < count) {
        parts[wg.x * STRIDE + q] = red[li];
      }
      workgroupBarrier();
    }
    return;
  }
  let jStart = base + wg.y * p.segLen;
  let jEnd = min(jStart + p.segLen, n);
  var acc = 0.0;
  if (i < n) {
    for (var c = jStart + lid.y; c < jEnd; c += 4u) {
      acc += a[c * n + i] * V(j, c);
    }
  }
  red[li] = acc;
  workgroupBarrier();
  if (lid.y == 0u && i < n) {
    work[PART + wg.y * n + i] = red[li] + red[li + ROWS] + red[li + 2u * ROWS] + red[li + 3u * ROWS];
  }
}

// The dot products Wᵀv, Vᵀv, summed from the blocks' shares by every finish workgroup.
var<workgroup> dots: array<f32, 2u * NB>;

// y = τ (A22 v − V Wᵀv − W Vᵀv) over ROWS rows, left in W_j (row_update or w_finish makes it w),
// and the block's share of yᵀv.
@compute @workgroup_size(ROWS, 4)
fn finish(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = p.n;
  let j = p.j;
  let base = p.k + 1u;
  let blocks = (n - base + ROWS - 1u) / ROWS;
  let count = 2u * j;
  // Dot q by invocations (q, 0..3), each summing every fourth block's share.
  var share = 0.0;
  if (lid.x < count) {
    for (var b = lid.y; b < blocks; b += 4u) {
      share += parts[b * STRIDE + lid.x];
    }
  }
  red[li] = share;
  workgroupBarrier();
  if (lid.y == 0u && lid.x < count) {
    dots[lid.x] = red[li] + red[li + ROWS] + red[li + 2u * ROWS] + red[li + 3u * ROWS];
  }
  workgroupBarrier();
  let segments = (n - base + p.segLen - 1u) / p.segLen;
  let i = base + wg.x * ROWS + lid.x;
  var acc = 0.0;
  if (i < n) {
    for (var s = lid.y; s < segments; s += 4u) {
      acc += work[PART + s * n + i];
    }
    for (var c = lid.y; c < j; c += 4u) {
      acc -= V(c, i) * dots[c] + W(c, i) * dots[j + c];
    }
  }
  red[li] = acc;
  workgroupBarrier();
  let tau = work[0];
  var yv = 0.0;
  if (lid.y == 0u && i < n) {
    let y = tau * (red[li] + red[li + ROWS] + red[li + 2u * ROWS] + red[li + 3u * ROWS]);
    vw[(NB + j) * n + i] = y;
    yv = y * V(j, i);
  }
  workgroupBarrier();
  let sum = reduceSum(li, yv, 4u * ROWS);
  if (li == 0u) {
    parts[wg.x * STRIDE + YV] = sum;
  }
}

// The panel's last w = y − ½τ(yᵀv) v (row_update does it for the others), before the trailing update.
@compute @workgroup_size(ROWS, 4)
fn w_finish(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = p.n;
  let last = p.j - 1u;
  let first = p.k + p.j; // the last column's first row below the diagonal
  let half = halfTauYv(li, first);
  let t = first + wg.x * 4u * ROWS + li;
  if (t < n) {
    vw[(NB + last) * n + t] -= half * V(last, t);
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
