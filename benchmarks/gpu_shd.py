"""Time per training batch and peak memory: ours vs mlGeNN's delay path
vs DCLS-Delays, on SHD-shaped data (the paper's GPU comparison).

    python benchmarks/gpu_shd.py                          # CUDA, batch 256
    python benchmarks/gpu_shd.py --hidden 512 --max-delays 1024
    python benchmarks/gpu_shd.py --backend cpu --batch-size 1 --hidden 32

Variants, two feedforward hidden LIF layers, same initial weights/delays:

    a  no delays (GeNN)
    b  ours: learnable delays on both feedforward connections
    c  mlGeNN's delay_learn_conns path, same delays
    d  DCLS-Delays (PyTorch + dcls, surrogate-gradient BPTT)

Each (variant, max delay) runs in its own process, so its peak memory is
its own: GPU memory used by the process (NVML) on CUDA, peak resident
memory on the CPU. Time per batch is the median over --batches batches
after --warmup. Targets (at hidden 256, max delay 512 for DCLS): b/c <= 1.0,
b/a <= 1.2, DCLS/ours time >= 30, ours/DCLS memory <= 0.4.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
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
    add("--out", help="CSV path (default results/gpu_shd_<backend>.csv; "
        "the PNG goes beside it)")
    add("--worker", help=argparse.SUPPRESS)
    add("--max-delay", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ------------------------------------------------------------ one variant
def _memory_mib(backend):
    """Memory this process holds: GPU memory (NVML) or peak RSS."""
    if backend == "cpu":
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    import pynvml
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    used = [p.usedGpuMemory for p in
            pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
            if p.pid == os.getpid()]
    return (used[0] if used and used[0] else 0) / 2 ** 20


def _device_name(backend):
    if backend == "cpu":
        import platform
        return f"CPU {platform.processor() or platform.machine()}"
    import pynvml
    pynvml.nvmlInit()
    name = pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(0))
    return name.decode() if isinstance(name, bytes) else name


def _data(args):
    sys.path.insert(0, HERE)
    from shd_network import NUM_OUTPUTS, shd_like_input
    n = args.batch_size * (args.warmup + args.batches)
    x = shd_like_input(n, args.inputs, args.timesteps, args.spikes, 2)
    y = np.random.default_rng(3).integers(0, NUM_OUTPUTS, n)
    return x, y


def _genn_worker(args):
    sys.path.insert(0, HERE)
    from ml_genn.callbacks import Callback
    from shd_network import build, initial_values

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
        name=f"gpu_shd_{args.worker}_{args.max_delay}_{args.hidden}",
        backend=backend)
    x, y = _data(args)
    timer = BatchTimer()
    with compiled:
        compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False,
                       callbacks=[timer])
        memory = _memory_mib(args.backend)
    return timer.times[args.warmup:], memory


def _dcls_worker(args):
    try:
        import torch
        sys.path.insert(0, HERE)
        from dcls_model import DclsSNN, dense_input
    except ImportError as error:
        raise SystemExit(json.dumps({"error": f"{error}; pip install -e "
                                     f"'.[bench]' (torch, dcls)"}))
    from shd_network import NUM_OUTPUTS
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
    return times[args.warmup:], _memory_mib(args.backend)


def worker(args):
    times, memory = (_dcls_worker(args) if args.worker == "d"
                     else _genn_worker(args))
    print(json.dumps({"s_per_batch": float(np.median(times)),
                      "memory_mib": memory}))


# -------------------------------------------------------------- the table
def run_variant(args, argv, variant, max_delay):
    """Run one variant in its own process; its JSON line, or an error."""
    command = [sys.executable, os.path.abspath(__file__), *argv,
               "--worker", variant, "--max-delay", str(max_delay)]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [l for l in (done.stdout + done.stderr).splitlines()
             if l.startswith("{")]
    if not lines:
        return {"error": (done.stderr or done.stdout).strip()
                .splitlines()[-1:] or ["no output"]}
    return json.loads(lines[-1])


def make_rows(args, device, max_delay, results):
    base = {c: "" for c in COLUMNS}
    base.update(device=device, hidden=args.hidden, max_delay=max_delay,
                batch_size=args.batch_size)
    rows = []
    for v, r in results.items():
        rows.append({**base, "row": f"{v} {VARIANTS[v]}",
                     "s_per_batch": r.get("s_per_batch", ""),
                     "memory_mib": r.get("memory_mib", ""),
                     "note": r.get("error", "")})
    for name, num, den, what, target, sense in RATIOS:
        if what in results.get(num, {}) and what in results.get(den, {}):
            ratio = results[num][what] / max(results[den][what], 1e-12)
            ok = ratio <= target if sense == "<=" else ratio >= target
            rows.append({**base, "row": name, "ratio": ratio,
                         "target": f"{sense} {target}",
                         "status": "PASS" if ok else "MISS"})
    return rows


def write_outputs(path, rows):
    """CSV (atomically) and a PNG of time and memory against max delay."""
    sys.path.insert(0, HERE)
    from shd_network import write_csv_atomic
    write_csv_atomic(path, rows, COLUMNS)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for v, label in VARIANTS.items():
        mine = [r for r in rows if r["row"] == f"{v} {label}"
                and r["s_per_batch"] != ""]
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
    rows = []
    for max_delay in args.max_delays:
        results = {v: run_variant(args, argv, v, max_delay)
                   for v in args.variants}
        rows += make_rows(args, device, max_delay, results)
    print(f"{'row':<26}{'max delay':>10}{'s/batch':>12}{'MiB':>10}"
          f"{'ratio':>9}{'target':>9}{'status':>8}  note")
    for r in rows:
        print(f"{r['row']:<26}{r['max_delay']:>10}"
              f"{format(r['s_per_batch'], '.4f') if r['s_per_batch'] != '' else '':>12}"
              f"{format(r['memory_mib'], '.0f') if r['memory_mib'] != '' else '':>10}"
              f"{format(r['ratio'], '.3f') if r['ratio'] != '' else '':>9}"
              f"{r['target']:>9}{r['status']:>8}  {r['note']}")
    write_outputs(out, rows)
    return rows


if __name__ == "__main__":
    main()
