"""Time per training batch and peak memory: ours vs mlGeNN's delay path
vs DCLS-Delays, on SHD-shaped data (the paper's GPU comparison).

    python benchmarks/gpu_shd.py                          # CUDA, batch 256
    python benchmarks/gpu_shd.py --hidden 512 --max-delays 1024
    python benchmarks/gpu_shd.py --backend cpu --batch-size 1 --hidden 32

Variants, two feedforward hidden LIF layers (a, b and c with the same
initial weights and delays):

    a  no delays (GeNN)
    b  ours: learnable delays on both feedforward connections
    c  mlGeNN's delay_learn_conns path, same delays
    d  DCLS-Delays (PyTorch + dcls, surrogate-gradient BPTT): the same
       sizes, its own initial weights, delays over [0, max delay], no
       exponential synapse, a mean-over-time readout (dcls_model.py)

Each (variant, max delay) runs in its own process, so its peak memory is
its own: GPU memory used by the process (NVML) on CUDA, or, where NVML
cannot see the process (PID namespaces of containers and VMs), the
device's used memory minus what was used when the process started; peak
resident memory on the CPU (VmHWM: a worker's own, not its parent's).
GeNN variants are compiled first, up to --compile-jobs at a time (CUDA
compiles take about a minute each), then timed one by one. Time per batch is the median over --batches batches
after --warmup. Targets (at hidden 256, max delay 512 for DCLS): b/c <= 1.0,
b/a <= 1.2, DCLS/ours time >= 30, ours/DCLS memory <= 0.4.
"""
import argparse
import functools
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from tqdm import tqdm

HERE = os.path.dirname(os.path.abspath(__file__))
# Run as a script or loaded by path: the shared network sits beside it
sys.path.insert(0, HERE)
from shd_network import (NUM_OUTPUTS, build, initial_values,  # noqa: E402
                         shd_like_input, write_csv_atomic)
VARIANTS = {"a": "no delays", "b": "ours", "c": "mlGeNN delay path",
            "d": "DCLS-Delays"}
# (name, numerator, denominator, what, target, "<=" or ">=")
RATIOS = [("b/c time", "b", "c", "s_per_batch", 1.0, "<="),
          ("b/a time", "b", "a", "s_per_batch", 1.2, "<="),
          ("d/b time", "d", "b", "s_per_batch", 30.0, ">="),
          ("b/d memory", "b", "d", "memory_mib", 0.4, "<=")]
COLUMNS = ["device", "row", "hidden", "max_delay", "batch_size",
           "s_per_batch", "memory_mib", "ratio", "target", "status", "note"]


def parse(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add = parser.add_argument
    add("--backend", choices=["cuda", "cpu"], default="cuda")
    add("--batch-size", type=int, default=256)
    add("--hidden", type=int, default=256)
    add("--layers", type=int, default=2)
    add("--inputs", type=int, default=700)
    add("--timesteps", type=int, default=1000)
    add("--spikes", type=int, default=8000, help="input spikes per example")
    add("--max-delays", type=int, nargs="+", default=[64, 512, 1024])
    add("--variants", nargs="+", default=list(VARIANTS),
        choices=list(VARIANTS))
    add("--batches", type=int, default=5, help="timed batches")
    add("--warmup", type=int, default=2)
    add("--compile-jobs", type=int, default=3,
        help="GeNN models (variant, max delay) compiled at once before "
        "any is timed")
    add("--out", help="CSV path (default results/gpu_shd_<backend>.csv; "
        "the PNG goes beside it)")
    add("--worker", help=argparse.SUPPRESS)
    add("--max-delay", type=int, help=argparse.SUPPRESS)
    add("--compile-only", action="store_true", help=argparse.SUPPRESS)
    add("--run-timeout", type=float, default=0,
        help="seconds one variant may run (0: no limit)")
    add("--append", action="store_true",
        help="keep the rows of --out measured at the same hidden size and "
        "batch (a session measures DCLS in a later call) and add these")
    add("--profile", action="store_true",
        help="GeNN variants with GeNN's kernel timers on (separately "
        "compiled models; the timers add synchronisation): the split of "
        "each batch into kernels goes to <out>_profile.csv")
    return parser.parse_args(argv)


# ------------------------------------------------------------ one variant
@functools.lru_cache(maxsize=None)
def _peak_rss_mib():
    """This process's peak resident memory [MiB]. Linux keeps ru_maxrss
    across fork and exec, so a worker would report its parent's peak if
    larger; VmHWM in /proc belongs to the process's own memory map."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _nvml_device():
    """(pynvml, handle of GPU 0), or (None, None) where NVML is missing or
    fails: then the table has times but no memory, instead of nothing."""
    try:
        import pynvml
        pynvml.nvmlInit()
        return pynvml, pynvml.nvmlDeviceGetHandleByIndex(0)
    except Exception as error:  # ImportError or an NVMLError
        print(f"NVML unavailable ({error}): no GPU memory readings")
        return None, None


def _device_used_mib(backend):
    """Memory in use on the whole GPU (None on the CPU)."""
    if backend == "cpu":
        return None
    pynvml, handle = _nvml_device()
    if pynvml is None:
        return None
    try:
        return pynvml.nvmlDeviceGetMemoryInfo(handle).used / 2 ** 20
    except Exception as error:     # an NVMLError
        print(f"NVML memory info failed ({error})", file=sys.stderr)
        return None


def _memory_mib(backend, baseline_mib=None):
    """Memory this process holds: (MiB, how it was measured).

    GPU memory of this process as NVML lists it; where NVML lists no such
    process (inside a container or VM the driver sees other PIDs), the
    device's used memory minus ``baseline_mib``, taken before this
    process touched the GPU. GeNN allocates everything at load and
    PyTorch's caching allocator keeps what it took, so both read after
    training are peaks. Peak resident memory on the CPU."""
    if backend == "cpu":
        return _peak_rss_mib(), "peak RSS"
    pynvml, handle = _nvml_device()
    if pynvml is None:
        return float("nan"), "NVML unavailable"
    try:
        used = [p.usedGpuMemory for p in
                pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
                if p.pid == os.getpid() and p.usedGpuMemory]
    except Exception as error:     # an NVMLError (e.g. in a sandbox)
        print(f"NVML process list failed ({error})", file=sys.stderr)
        used = []
    if used:
        return used[0] / 2 ** 20, "NVML process"
    device = _device_used_mib(backend)
    if device is None or baseline_mib is None:
        # Times without memory, rather than a failed row
        return float("nan"), "NVML unreadable"
    return device - baseline_mib, "NVML device - baseline"


def _device_name(backend):
    if backend == "cpu":
        import platform
        return f"CPU {platform.processor() or platform.machine()}"
    pynvml, handle = _nvml_device()
    if pynvml is None:
        return "CUDA device (NVML unavailable)"
    name = pynvml.nvmlDeviceGetName(handle)
    return name.decode() if isinstance(name, bytes) else name


def _data(args):
    n = args.batch_size * (args.warmup + args.batches)
    x = shd_like_input(n, args.inputs, args.timesteps, args.spikes, 2)
    y = np.random.default_rng(3).integers(0, NUM_OUTPUTS, n)
    return x, y


def _genn_worker(args, baseline_mib):
    from ml_genn.callbacks import Callback

    class BatchTimer(Callback):
        def __init__(self):
            self.times = []

        def on_batch_begin(self, batch):
            self._start = time.perf_counter()

        def on_batch_end(self, batch, metrics):
            self.times.append(time.perf_counter() - self._start)

    style = {"a": "ours", "b": "ours", "c": "mlgenn"}[args.worker]
    init = initial_values(args.inputs, args.hidden, args.layers)
    backend = {"cpu": "single_threaded_cpu", "cuda": "cuda"}[args.backend]
    compiled, inp, _, out = build(
        style, args.worker != "a", False, init, args.max_delay,
        args.timesteps, 2 * args.spikes, batch_size=args.batch_size,
        name=(f"gpu_shd_{args.worker}_{args.max_delay}_{args.hidden}"
              + ("_profiled" if args.profile else "")),
        backend=backend, kernel_profiling=args.profile)
    if args.compile_only:  # build() generated and compiled the code
        return None, None, None
    x, y = _data(args)
    timer = BatchTimer()
    with compiled:
        compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False,
                       callbacks=[timer])
        memory = _memory_mib(args.backend, baseline_mib)
        profile = (kernel_times(compiled.genn_model, timer.times)
                   if args.profile else None)
    return timer.times[args.warmup:], memory, profile


def kernel_times(genn_model, batch_times):
    """GeNN's kernel timers (``kernel_profiling``), seconds per batch
    averaged over every batch run (warm-up included: GeNN's timers
    count from loading): each part, each custom update group, and the
    rest of the wall time (host work: spike uploads, readouts, Python)."""
    n = len(batch_times)
    parts = {"neuron update": genn_model.neuron_update_time,
             "presynaptic update": genn_model.presynaptic_update_time,
             "postsynaptic update": genn_model.postsynaptic_update_time,
             "synapse dynamics": genn_model.synapse_dynamics_time}
    for group in sorted({cu.update_group_name
                         for cu in genn_model.custom_updates.values()}):
        parts[f"custom update {group}"] = \
            genn_model.get_custom_update_time(group)
    parts = {k: v / n for k, v in parts.items()}
    parts["host and other"] = sum(batch_times) / n - sum(parts.values())
    return parts


def _dcls_worker(args, baseline_mib):
    try:
        import torch
        from dcls_model import DclsSNN, dense_input
    except ImportError as error:
        raise SystemExit(json.dumps({"error": f"{error}; pip install -e "
                                     f"'.[bench]' (torch, dcls)"}))
    device = "cuda" if args.backend == "cuda" else "cpu"
    torch.manual_seed(0)
    model = DclsSNN(args.inputs, args.hidden, args.layers, NUM_OUTPUTS,
                    args.max_delay).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = _data(args)
    times = []
    for b in range(args.warmup + args.batches):
        batch = slice(b * args.batch_size, (b + 1) * args.batch_size)
        xb = dense_input(x[batch], args.inputs, args.timesteps, device)
        yb = torch.as_tensor(y[batch]).long().to(device)
        start = time.perf_counter()
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimiser.step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times[args.warmup:], _memory_mib(args.backend, baseline_mib), None


def worker(args):
    # Before anything touches the GPU (see _memory_mib)
    baseline_mib = _device_used_mib(args.backend)
    times, memory, profile = (
        _dcls_worker(args, baseline_mib) if args.worker == "d"
        else _genn_worker(args, baseline_mib))
    if args.compile_only:
        print(json.dumps({"compiled": True}))
        return
    print(json.dumps({"s_per_batch": float(np.median(times)),
                      "memory_mib": memory[0], "memory_source": memory[1],
                      "profile": profile}))


# -------------------------------------------------------------- the table
def _variant_command(argv, variant, max_delay, *extra):
    return [sys.executable, os.path.abspath(__file__), *argv,
            "--worker", variant, "--max-delay", str(max_delay), *extra]


def _json_result(stdout, stderr, returncode=0):
    """The worker's last JSON line, or an error from its output (whose
    last 30 lines go to stderr: a session's log is all that comes back)."""
    lines = [l for l in (stdout + stderr).splitlines() if l.startswith("{")]
    if not lines:
        tail = (stderr + "\n" + stdout).strip().splitlines()
        print("\n".join(tail[-30:]), file=sys.stderr)
        # The last line that says what failed (nvcc remarks and NVML
        # notes may come after it)
        errors = [l for l in tail if "rror" in l or "Traceback" in l]
        return {"error": f"exit status {returncode}: "
                + (errors or tail or ["no output"])[-1].strip()}
    return json.loads(lines[-1])


def compile_variants(args, argv):
    """Build every GeNN (variant, max delay) model, ``--compile-jobs``
    processes at a time; the timed runs then find their code up to date
    (GeNN rebuilds only a changed model). Returns {(variant, max delay):
    error} for failed builds."""
    todo = [(v, d) for d in args.max_delays for v in args.variants
            if v != "d"]
    jobs = max(1, args.compile_jobs)
    errors = {}
    for start in tqdm(range(0, len(todo), jobs), desc="compiling"):
        running = {key: subprocess.Popen(
            _variant_command(argv, *key, "--compile-only"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for key in todo[start:start + jobs]}
        for key, process in running.items():
            result = _json_result(*process.communicate(),
                                  process.returncode)
            if "error" in result:
                errors[key] = result["error"]
    return errors


def run_variant(args, argv, variant, max_delay):
    """Run one variant in its own process; its JSON line, or an error."""
    try:
        done = subprocess.run(_variant_command(argv, variant, max_delay),
                              capture_output=True, text=True,
                              timeout=args.run_timeout or None)
    except subprocess.TimeoutExpired:
        return {"error": f"over --run-timeout {args.run_timeout} s"}
    return _json_result(done.stdout, done.stderr, done.returncode)


def make_rows(args, device, max_delay, results):
    base = {c: "" for c in COLUMNS}
    base.update(device=device, hidden=args.hidden, max_delay=max_delay,
                batch_size=args.batch_size)
    rows = []
    for v, r in results.items():
        rows.append({**base, "row": f"{v} {VARIANTS[v]}",
                     "s_per_batch": r.get("s_per_batch", ""),
                     "memory_mib": r.get("memory_mib", ""),
                     "note": r.get("error", r.get("memory_source", ""))})
    for name, num, den, what, target, sense in RATIOS:
        if what in results.get(num, {}) and what in results.get(den, {}):
            ratio = results[num][what] / max(results[den][what], 1e-12)
            if not np.isfinite(ratio):      # e.g. memory NVML could not read
                continue
            ok = ratio <= target if sense == "<=" else ratio >= target
            rows.append({**base, "row": name, "ratio": ratio,
                         "target": f"{sense} {target}",
                         "status": "PASS" if ok else "MISS"})
    return rows


PROFILE_COLUMNS = ["device", "variant", "max_delay", "part", "ms_per_batch",
                   "share"]


def profile_path(out):
    return os.path.splitext(out)[0] + "_profile.csv"


def make_profile_rows(device, max_delay, results):
    """One row per (variant, part of a batch) from ``--profile`` runs."""
    rows = []
    for v, r in results.items():
        parts = r.get("profile") or {}
        total = sum(parts.values())
        rows += [{"device": device, "variant": f"{v} {VARIANTS[v]}",
                  "max_delay": max_delay, "part": part,
                  "ms_per_batch": 1e3 * seconds,
                  "share": seconds / total if total > 0 else 0.0}
                 for part, seconds in parts.items()]
    return rows


def write_outputs(path, rows):
    """CSV (atomically) and a PNG of time and memory against max delay."""
    write_csv_atomic(path, rows, COLUMNS)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for v, label in VARIANTS.items():
        mine = sorted((r for r in rows if r["row"] == f"{v} {label}"
                       and r["s_per_batch"] != ""),
                      key=lambda r: r["max_delay"])
        if not mine:
            continue
        delays = [r["max_delay"] for r in mine]
        axes[0].plot(delays, [r["s_per_batch"] for r in mine], "o-",
                     label=label)
        axes[1].plot(delays, [r["memory_mib"] for r in mine], "o-",
                     label=label)
    axes[0].set(xlabel="max delay [steps]", ylabel="s per batch",
                yscale="log", title=rows[0]["device"] if rows else "")
    axes[1].set(xlabel="max delay [steps]", ylabel="memory [MiB]",
                yscale="log")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(os.path.splitext(path)[0] + ".png", dpi=100)
    plt.close(fig)


def read_results(path, args):
    """{(variant, max delay): result} of the variant rows of an earlier
    CSV at the same hidden size and batch (``--append``)."""
    if not os.path.exists(path):
        return {}
    import csv
    names = {f"{v} {label}": v for v, label in VARIANTS.items()}
    results = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            if (r["row"] not in names or int(r["hidden"]) != args.hidden
                    or int(r["batch_size"]) != args.batch_size):
                continue
            key = names[r["row"]], int(r["max_delay"])
            if r["s_per_batch"] == "":
                results[key] = {"error": r["note"]}
            else:
                results[key] = {"s_per_batch": float(r["s_per_batch"]),
                                "memory_mib": float(r["memory_mib"] or "nan"),
                                "memory_source": r["note"]}
    return results


def table_rows(args, device, results):
    """The rows of every max delay measured, in order, ratios included."""
    delays = sorted({d for _, d in results})
    return [row for d in delays for row in make_rows(
        args, device, d, {v: r for (v, dd), r in sorted(results.items())
                          if dd == d})]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse(argv)
    if args.worker:
        return worker(args)
    if args.backend == "cpu" and args.batch_size != 1 and "c" in \
            args.variants:
        raise SystemExit("GeNN's CPU backend runs batch size 1 only "
                         "(mlGeNN's path cannot accumulate): use "
                         "--batch-size 1 with --backend cpu")
    device = _device_name(args.backend)
    out = args.out or os.path.join(HERE, "results",
                                   f"gpu_shd_{args.backend}.csv")
    failed = compile_variants(args, argv)
    if args.compile_only:       # a session builds these ahead of time
        print(json.dumps({"compiled": sorted(args.variants),
                          "failed": [f"{v} {d}: {e}"
                                     for (v, d), e in failed.items()]}))
        return []
    results = read_results(out, args) if args.append else {}
    profiles = {}
    # GeNN's variants for every max delay first, then DCLS, by far the
    # slowest: a session cut short keeps the most rows
    order = ([(v, d) for d in args.max_delays for v in args.variants
              if v != "d"]
             + [("d", d) for d in args.max_delays if "d" in args.variants])
    for v, d in tqdm(order, desc="variants"):
        results[v, d] = (
            {"error": failed[v, d]} if (v, d) in failed
            else run_variant(args, argv, v, d))
        # In the log at once, and the files after every variant
        print(json.dumps({"variant": v, "max_delay": d, **results[v, d]}),
              flush=True)
        if results[v, d].get("profile"):
            profiles[v, d] = results[v, d]
        rows = table_rows(args, device, results)
        write_outputs(out, rows)
        if profiles:
            write_csv_atomic(profile_path(out), [
                row for (pv, pd), r in profiles.items()
                for row in make_profile_rows(device, pd, {pv: r})],
                PROFILE_COLUMNS)
    rows = table_rows(args, device, results)
    print(f"{'row':<26}{'max delay':>10}{'s/batch':>12}{'MiB':>10}"
          f"{'ratio':>9}{'target':>9}{'status':>8}  note")
    for r in rows:
        print(f"{r['row']:<26}{r['max_delay']:>10}"
              f"{format(r['s_per_batch'], '.4f') if r['s_per_batch'] != '' else '':>12}"
              f"{format(r['memory_mib'], '.0f') if r['memory_mib'] != '' else '':>10}"
              f"{format(r['ratio'], '.3f') if r['ratio'] != '' else '':>9}"
              f"{r['target']:>9}{r['status']:>8}  {r['note']}")
    for (pv, pd), r in profiles.items():
        for row in make_profile_rows(device, pd, {pv: r}):
            print(f"{row['variant']:<26}{row['max_delay']:>10}  "
                  f"{row['part']:<40}{row['ms_per_batch']:>10.2f} ms "
                  f"{100 * row['share']:>5.1f}%")
    return rows


if __name__ == "__main__":
    main()
