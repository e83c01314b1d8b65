#!/usr/bin/env bash
# Every GPU check of one device session, in ONE call of under 10 minutes
# (a session's 15 minutes of device time leave no second call once a
# machine has started): the SHD-shaped table (hidden 256, max delay
# 512/64/1024, batch 256: no delays, ours, mlGeNN's delay path), the CUDA
# tests (CUDA batches == CPU accumulation; delay gradients among the NCCL
# reductions), GeNN's kernel split at max delay 512, and last, with the
# time left, DCLS-Delays (by far the slowest) added to the table.
#
#   bash benchmarks/gpu_session.sh OUT [BUDGET_S]
#
# Expects pygenn built with CUDA, ml_genn and (for DCLS) torch and dcls
# importable: benchmarks/README.md says how to bring them. Each step has
# its own time limit, cut to what is left of BUDGET_S (default 570); the
# table's CSV is rewritten after every variant, so a step cut short keeps
# what it measured, and every result is also printed to the log.
set -uo pipefail
out=${1:?usage: gpu_session.sh OUT [BUDGET_S]}
budget=${2:-570}
mkdir -p "$out" && out=$(cd "$out" && pwd)  # absolute: we cd below
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
log=$out/session.log  # $OUT returns 8 files at most: one log
: > "$log"

# step SECONDS COMMAND...: run it for at most SECONDS, or what is left
step() {
    local limit=$1 left=$((budget - SECONDS))
    shift
    ((limit > left)) && limit=$left
    if ((limit < 15)); then
        echo "SKIPPED (${left} s left): $*" | tee -a "$log"
        return
    fi
    echo "== ${limit} s: $*" | tee -a "$log"
    timeout -k 10 "$limit" "$@" 2>&1 | tee -a "$log"
}

# GeNN compiles its generated code with $CUDA_PATH/bin/nvcc, which must
# find curand_kernel.h (and nccl.h and libnccl for NCCL reductions). Where
# the toolkit lacks them, take them from NVIDIA's pip packages. nvcc finds
# its own include and library folders from where its binary really lies
# (a CUDA_PATH overlay of symlinks is not searched), so add them through
# NVCC_PREPEND_FLAGS, which every nvcc call of GeNN's reads.
cuda=${CUDA_PATH:-$(dirname "$(dirname "$(command -v nvcc)")")}
# every folder of the nvidia namespace package (one per site dir)
nvidia=$(python3 -c "import nvidia; print(' '.join(nvidia.__path__))" 2>/dev/null)
# Only curand's and NCCL's own files: the packages' shared include folder
# (nvidia/cu13/include) also holds CUDA runtime headers of other versions
extra=/tmp/cuda_extra
mkdir -p "$extra/include" "$extra/lib"
for library in curand nccl; do
    if [ ! -e "$cuda/include/${library}.h" ]; then
        found=$(find $nvidia -name "${library}.h" 2>/dev/null | head -1)
        [ -n "$found" ] && ln -sf "$(dirname "$found")/${library}"* "$extra/include/"
    fi
done
nccl=$(find $nvidia -name "libnccl.so*" 2>/dev/null | head -1)
if [ ! -e "$cuda/lib64/libnccl.so" ] && [ -n "$nccl" ]; then
    ln -sf "$nccl" "$extra/lib/libnccl.so"
    export LD_LIBRARY_PATH=$(dirname "$nccl"):${LD_LIBRARY_PATH:-}
fi
# pygenn's CUDA backend needs libcudart, and looks for it only beside
# itself and where the loader is told
cudart=$(find "$cuda" $nvidia -name "libcudart.so.1*" 2>/dev/null | head -1)
[ -n "$cudart" ] && export LD_LIBRARY_PATH=$(dirname "$cudart"):${LD_LIBRARY_PATH:-}
export CUDA_PATH=$cuda \
    NVCC_PREPEND_FLAGS="-I$extra/include -L$extra/lib ${NVCC_PREPEND_FLAGS:-}"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
    2>&1 | tee -a "$log"
"$cuda/bin/nvcc" --version 2>&1 | tail -1 | tee -a "$log"
echo "CUDA_PATH=$CUDA_PATH NVCC_PREPEND_FLAGS=$NVCC_PREPEND_FLAGS" \
    "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}" | tee -a "$log"
python3 -c "import pygenn.cuda_backend, ml_genn, ml_genn_delays" \
    2>&1 | tee -a "$log" || exit 1
for module in torch DCLS pynvml xdist pytest_timeout; do
    python3 -c "import $module" 2>/dev/null \
        && echo "$module: yes" || echo "$module: NO"
done | tee -a "$log"

# 512 first: the row the targets are stated at
step 270 python3 benchmarks/gpu_shd.py --max-delays 512 64 1024 \
    --variants a b c --warmup 1 --batches 2 --compile-jobs 9 \
    --run-timeout 60 --out "$out/gpu_shd_cuda.csv"

# The profiled models (GeNN's kernel timers) build in the background
# while the tests run (not while the table is timed)
profile=(python3 benchmarks/gpu_shd.py --max-delays 512 --variants a b
         --warmup 1 --batches 3 --profile
         --out "$out/gpu_shd_cuda_profiled.csv")
building=$((budget - SECONDS - 120))
((building > 300)) && building=300
timeout -k 10 "$((building > 15 ? building : 15))" "${profile[@]}" \
    --compile-only --compile-jobs 2 > /tmp/profile_compile.log 2>&1 &
compiling=$!

if python3 -c "import xdist" 2>/dev/null; then
    # Side by side: a worker that crashes is replaced, the rest go on
    step 120 python3 -m pytest -m cuda -v -p no:cacheprovider -n 7 \
        tests/test_cuda.py
else
    # NCCL first (it only generates and compiles code), then each
    # training test in its own process: a GeNN abort (std::terminate on a
    # CUDA error) takes the whole pytest with it
    step 60 python3 -m pytest -m cuda -v -p no:cacheprovider \
        tests/test_cuda.py -k nccl
    for test in $(python3 -m pytest --collect-only -q -m cuda \
                  -p no:cacheprovider tests/test_cuda.py -k "not nccl" \
                  2>/dev/null | grep "::"); do
        step 60 python3 -m pytest -m cuda -v -p no:cacheprovider "$test"
    done
fi

if ((budget - SECONDS < 30)); then
    kill "$compiling" 2>/dev/null   # no time left to profile
fi
wait "$compiling"
tail -5 /tmp/profile_compile.log | tee -a "$log"
step 60 "${profile[@]}"

# DCLS with what is left: 512 first, one timed batch (about 33 s each)
step "$budget" python3 benchmarks/gpu_shd.py --max-delays 512 64 1024 \
    --variants d --warmup 1 --batches 1 --append --run-timeout 200 \
    --out "$out/gpu_shd_cuda.csv"
ls -l "$out" | tee -a "$log"
