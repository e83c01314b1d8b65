#!/usr/bin/env bash
# The GPU checks of one device session, sized for 15 minutes of device
# time and a 10-minute command: the SHD-shaped table (hidden 256, max delay
# 64/512/1024, batch 256: no delays, ours, mlGeNN's delay path, DCLS), the
# CUDA tests (CUDA batches == CPU accumulation; delay gradients among the
# NCCL reductions) and GeNN's kernel split at max delay 512.
#
#   benchmarks/gpu_session.sh OUT [TABLE_S] [TESTS_S] [PROFILE_S]
#
# Expects pygenn built with CUDA, ml_genn and (for DCLS) torch and dcls
# importable: benchmarks/README.md says how to bring them. Each step has
# its own time limit; the table's CSV is written after every max delay, so
# a step cut short keeps what it measured.
set -uo pipefail
out=${1:?usage: gpu_session.sh OUT [TABLE_S] [TESTS_S] [PROFILE_S]}
table_s=${2:-330}
tests_s=${3:-150}
profile_s=${4:-90}
mkdir -p "$out" && out=$(cd "$out" && pwd)  # absolute: we cd below
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1

# GeNN compiles its generated code with $CUDA_PATH/bin/nvcc against
# $CUDA_PATH/include, which must hold curand_kernel.h (and nccl.h for NCCL
# reductions). Where the toolkit lacks them, lay an overlay over it that
# adds the headers and libraries of NVIDIA's pip packages.
cuda=${CUDA_PATH:-$(dirname "$(dirname "$(command -v nvcc)")")}
if [ ! -e "$cuda/include/curand_kernel.h" ] || [ ! -e "$cuda/include/nccl.h" ]; then
    overlay=/tmp/cuda_overlay
    mkdir -p "$overlay/include" "$overlay/lib64"
    ln -sfn "$cuda/bin" "$overlay/bin"
    ln -sf "$cuda"/include/* "$overlay/include/"
    ln -sf "$cuda"/lib64/* "$overlay/lib64/"
    # every folder of the nvidia namespace package (one per site dir)
    nvidia=$(python3 -c "import nvidia; print(' '.join(nvidia.__path__))" 2>/dev/null)
    for header in curand_kernel.h nccl.h; do
        found=$(find $nvidia -name "$header" 2>/dev/null | head -1)
        # ln without -f: the toolkit's own headers win
        [ -n "$found" ] && ln -s "$(dirname "$found")"/* "$overlay/include/" 2>/dev/null
    done
    nccl=$(find $nvidia -name "libnccl.so*" 2>/dev/null | head -1)
    if [ -n "$nccl" ]; then
        ln -sf "$nccl" "$overlay/lib64/libnccl.so"
        export LD_LIBRARY_PATH=$(dirname "$nccl"):${LD_LIBRARY_PATH:-}
    fi
    cuda=$overlay
fi
export CUDA_PATH=$cuda LD_LIBRARY_PATH=$cuda/lib64:${LD_LIBRARY_PATH:-}

log=$out/session.log  # $OUT returns 8 files at most: one log
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
    2>&1 | tee "$log"
python3 -c "import pygenn.cuda_backend, ml_genn, ml_genn_delays" \
    2>&1 | tee -a "$log" || exit 1

# 512 first: the row the targets are stated at
timeout "$table_s" python3 benchmarks/gpu_shd.py --max-delays 512 64 1024 \
    --warmup 1 --batches 2 --compile-jobs 9 --out "$out/gpu_shd_cuda.csv" \
    2>&1 | tee -a "$log"
timeout "$tests_s" python3 -m pytest -m cuda -v -p no:cacheprovider \
    tests/test_cuda.py 2>&1 | tee -a "$log"
timeout "$profile_s" python3 benchmarks/gpu_shd.py --max-delays 512 \
    --variants a b --warmup 1 --batches 3 --profile \
    --out "$out/gpu_shd_cuda_profiled.csv" 2>&1 | tee -a "$log"
ls -l "$out" | tee -a "$log"
