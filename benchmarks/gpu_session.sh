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
table_s=${2:-290}
tests_s=${3:-150}
profile_s=${4:-80}
mkdir -p "$out" && out=$(cd "$out" && pwd)  # absolute: we cd below
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1

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
export CUDA_PATH=$cuda \
    NVCC_PREPEND_FLAGS="-I$extra/include -L$extra/lib ${NVCC_PREPEND_FLAGS:-}"

log=$out/session.log  # $OUT returns 8 files at most: one log
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
    2>&1 | tee "$log"
echo "CUDA_PATH=$CUDA_PATH NVCC_PREPEND_FLAGS=$NVCC_PREPEND_FLAGS" | tee -a "$log"
python3 -c "import pygenn.cuda_backend, ml_genn, ml_genn_delays" \
    2>&1 | tee -a "$log" || exit 1

# 512 first: the row the targets are stated at
timeout "$table_s" python3 benchmarks/gpu_shd.py --max-delays 512 64 1024 \
    --warmup 1 --batches 2 --compile-jobs 9 --out "$out/gpu_shd_cuda.csv" \
    2>&1 | tee -a "$log"
# NCCL first, in its own process: it only generates and compiles code,
# and a GeNN abort in a training test would take the whole pytest with it
timeout 60 python3 -m pytest -m cuda -v -p no:cacheprovider \
    tests/test_cuda.py -k nccl 2>&1 | tee -a "$log"
timeout "$tests_s" python3 -m pytest -m cuda -v -p no:cacheprovider \
    tests/test_cuda.py -k "not nccl" 2>&1 | tee -a "$log"
timeout "$profile_s" python3 benchmarks/gpu_shd.py --max-delays 512 \
    --variants a b --warmup 1 --batches 3 --profile \
    --out "$out/gpu_shd_cuda_profiled.csv" 2>&1 | tee -a "$log"
ls -l "$out" | tee -a "$log"
