#!/usr/bin/env bash
# WebGPU (Dawn) on a borrowed NVIDIA machine: adapter check, cnn bench (webgpu and cpu),
# webgpu-vs-cpu correctness of cnn run, and the parse+analyse timings. Run from the repo root:
#   bash scripts/device/gpu-bench.sh
# What it needs beside the tracked tree (all ignored, carried to the device machine):
#   .gl/*.deb                 the Vulkan loader (libvulkan1) and glvnd libraries, unpacked with dpkg -x
#   .device/payload.tar.xz    dist/cli.cjs, dist/bench/parse-analyse.cjs, node_modules/webgpu
#                             (package.json, index.js, dist/linux-x64/dawn.node) and bin/node
# Output: a log on stdout and in $OUT/log.txt, the bench JSON files and npy.tar under $OUT.
# Knobs (for a trial run elsewhere): GPU_RUNS GPU_WARMUP CPU_RUNS CPU_WARMUP CPU_BUDGET_S
# (ResNeXt-50 on cpu is skipped once the script has run that long), SKIP_CPU_BENCH=1, NETS.
set -u
OUT=${OUT:-/tmp/gpu-bench-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
GPU_RUNS=${GPU_RUNS:-20} GPU_WARMUP=${GPU_WARMUP:-3}
CPU_RUNS=${CPU_RUNS:-3} CPU_WARMUP=${CPU_WARMUP:-1}
CPU_BUDGET_S=${CPU_BUDGET_S:-240}
NETS=${NETS:-"resnet18 resnext50_32x4d"}
RUN_NETS=${RUN_NETS:-"resnet18 googlenet"}
WORK=/tmp/gpu-bench-work
rm -rf "$WORK"; mkdir -p "$WORK"
step() { echo; echo "=== $* (t=${SECONDS}s)"; }

step "machine"
uname -a; nproc; (lscpu 2>/dev/null | grep -m1 'Model name') || true
(nvidia-smi -L 2>&1 || echo "no nvidia-smi") | head -4

step "payload"
if [ -f .device/payload.tar.xz ]; then
  mkdir -p "$WORK/payload" && tar -xJf .device/payload.tar.xz -C "$WORK/payload" || echo "payload: unpack failed"
  [ -f dist/cli.cjs ] || { mkdir -p dist/bench && cp "$WORK/payload/dist/cli.cjs" dist/ && cp "$WORK/payload/dist/bench/parse-analyse.cjs" dist/bench/; }
  [ -f node_modules/webgpu/index.js ] || { mkdir -p node_modules && cp -r "$WORK/payload/node_modules/webgpu" node_modules/; }
fi
echo "system node: $(command -v node || echo none) $(node --version 2>/dev/null || true)"
# The carried node is the one the bundle was built and tested with here; a system one only if none travelled.
if [ -x "$WORK/payload/bin/node" ]; then NODE="$WORK/payload/bin/node"; else NODE=$(command -v node); fi
echo "using node: $NODE $("$NODE" --version)"
ls -la dist/cli.cjs dist/bench/parse-analyse.cjs node_modules/webgpu/dist/linux-x64/dawn.node

step "vulkan loader"
if [ "${SKIP_GL:-0}" != 1 ] && [ -d .gl ] && ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
ldconfig -p | grep -i libvulkan || echo "no libvulkan in ldconfig"
ls /usr/local/nvidia/share/vulkan/icd.d/ 2>&1
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ ! -f "$NV_ICD" ]; then
  NV_ICD=$(ls /usr/local/nvidia/share/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json 2>/dev/null | head -1)
fi
if [ -n "$NV_ICD" ] && [ -f "$NV_ICD" ]; then
  cat "$NV_ICD"; echo
  export VK_DRIVER_FILES="$NV_ICD" VK_ICD_FILENAMES="$NV_ICD"
  [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] && export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  lib=$(sed -n 's/.*"library_path": *"\([^"]*\)".*/\1/p' "$NV_ICD")
  echo "ICD library: $lib -> $(ldconfig -p | grep -m1 "$lib" || ls /usr/local/nvidia/lib64/"$lib" 2>&1 || echo 'not found')"
else
  echo "no NVIDIA ICD json; keeping VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-unset}"
fi
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-unset}"

step "adapter"
if ! timeout 60 "$NODE" scripts/device/adapter.mjs; then
  echo "adapter check failed; loader diagnostics:"
  VK_LOADER_DEBUG=error,warn,driver timeout 60 "$NODE" scripts/device/adapter.mjs 2>&1 | head -80
fi

step "bench webgpu"
for n in $NETS; do
  echo "--- $n webgpu"
  timeout 150 "$NODE" bin/cnn.js bench "examples/$n.cnn" --backend webgpu --runs "$GPU_RUNS" --warmup "$GPU_WARMUP" --json >"$OUT/bench-$n-webgpu.json" 2>"$WORK/err" \
    || { echo "FAILED rc=$?"; head -c 3000 "$WORK/err"; }
  grep -v XDG_RUNTIME_DIR "$WORK/err" | head -20
  "$NODE" scripts/device/summary.mjs "$OUT/bench-$n-webgpu.json" 5
done

step "correctness: cnn run webgpu vs cpu"
"$NODE" scripts/device/npy.mjs make "$WORK/input.npy" 12345
for n in $RUN_NETS; do
  for b in webgpu cpu; do
    timeout 120 "$NODE" bin/cnn.js run "examples/$n.cnn" --input "$WORK/input.npy" --backend "$b" --json --out "$WORK/$n-$b.npy" >"$WORK/$n-$b.json" 2>"$WORK/err" \
      || { echo "FAILED $n $b rc=$?"; head -c 3000 "$WORK/err"; }
    grep -v XDG_RUNTIME_DIR "$WORK/err" | head -5
    "$NODE" -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const o={...d};delete o.output;console.log(process.argv[2], JSON.stringify(o).slice(0,600))' "$WORK/$n-$b.json" "$n/$b" 2>/dev/null || true
  done
  echo "--- $n: webgpu vs cpu"
  "$NODE" scripts/device/npy.mjs diff "$WORK/$n-webgpu.npy" "$WORK/$n-cpu.npy" || true
done
(cd "$WORK" && tar -cf "$OUT/npy.tar" input.npy *-webgpu.npy *-cpu.npy 2>/dev/null) || true

step "bench cpu"
if [ "${SKIP_CPU_BENCH:-0}" != 1 ]; then
  for n in $NETS; do
    if [ "$n" != resnet18 ] && [ "$SECONDS" -gt "$CPU_BUDGET_S" ]; then echo "--- $n cpu: skipped (t=${SECONDS}s > ${CPU_BUDGET_S}s)"; continue; fi
    echo "--- $n cpu"
    timeout 200 "$NODE" bin/cnn.js bench "examples/$n.cnn" --backend cpu --runs "$CPU_RUNS" --warmup "$CPU_WARMUP" --json >"$OUT/bench-$n-cpu.json" 2>"$WORK/err" \
      || { echo "FAILED rc=$?"; head -c 3000 "$WORK/err"; }
    "$NODE" scripts/device/summary.mjs "$OUT/bench-$n-cpu.json" 5
  done
fi

step "parse + analyse"
timeout 120 "$NODE" dist/bench/parse-analyse.cjs || echo "FAILED rc=$?"

step "done"
sleep 1 # lets tee finish the log
