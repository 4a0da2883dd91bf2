// Workgroup reductions shared by the Householder shaders: shader-source.ts puts this file before
// the text of each shader that lists it, so its names are theirs (and `red`, the scratch array,
// is free for their own reductions between these calls).

// One f32 per invocation: 256 is WebGPU's default limit on invocations per workgroup.
var<workgroup> red: array<f32, 256>;

// Sum of x over the first `width` invocations (a power of two ≤ 256, uniform), in every
// invocation's hands; red is free again on return.
fn reduceSum(li: u32, x: f32, width: u32) -> f32 {
  red[li] = x;
  workgroupBarrier();
  for (var s = width / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      red[li] += red[li + s];
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// Largest x over the first `width` invocations, as reduceSum.
fn reduceMax(li: u32, x: f32, width: u32) -> f32 {
  red[li] = x;
  workgroupBarrier();
  for (var s = width / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      red[li] = max(red[li], red[li + s]);
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
