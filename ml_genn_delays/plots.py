"""Figures of a training run, saved to files (matplotlib, no screen)."""
import numpy as np


def plot_run(rows, delays_before, delays_after, path, title=""):
    """Accuracy per epoch (train, validation, test) and the histogram of
    learnable delays before and after training, as one PNG.

    Parameters
    ----------
    rows : list of dict
        One per epoch, with ``epoch`` and ``*_accuracy`` entries (the
        run's CSV rows).
    delays_before, delays_after : np.ndarray or None
        All learnable delays [steps]; None for a network without delays.
    path : str
        PNG file to write.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with_delays = delays_before is not None and len(delays_before) > 0
    fig, axes = plt.subplots(1, 2 if with_delays else 1,
                             figsize=(10 if with_delays else 5, 4),
                             squeeze=False)
    ax = axes[0, 0]
    epochs = [r["epoch"] for r in rows]
    for key in ("train", "valid", "test"):
        values = [r.get(f"{key}_accuracy") for r in rows]
        if any(v not in (None, "") for v in values):
            ax.plot(epochs, [np.nan if v in (None, "") else 100 * float(v)
                             for v in values], label=key)
    ax.set(xlabel="epoch", ylabel="accuracy [%]", title=title)
    ax.legend()
    if with_delays:
        ax = axes[0, 1]
        bins = np.linspace(0, max(np.max(delays_before),
                                  np.max(delays_after), 1.0), 41)
        ax.hist(delays_before, bins=bins, alpha=0.6, label="before")
        ax.hist(delays_after, bins=bins, alpha=0.6, label="after")
        ax.set(xlabel="delay [steps]", ylabel="synapses",
               title="learnable delays")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_raster(recording, path, title=""):
    """Spike rasters of one example, from the input up, and the output
    populations' membrane voltages, as one PNG (one panel each).

    Parameters
    ----------
    recording : dict
        From :func:`ml_genn_delays.evaluation.record_example`.
    path : str
        PNG file to write.
    title : str
        Put above the first panel (each output's panel says its label
        and whether the network got it right).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    panels = len(recording["spikes"]) + len(recording["v"])
    fig, axes = plt.subplots(panels, 1, sharex=True, squeeze=False,
                             figsize=(8, 1.2 + 1.8 * panels))
    axes = axes[:, 0]
    for ax, (name, (times, ids)) in zip(axes, recording["spikes"].items()):
        ax.scatter(times, ids, s=16, marker="|", color="k", lw=1.0)
        ax.set(ylabel=f"{name}\nneuron", title=f"{name}: {len(times)} spikes",
               ylim=(-0.5, recording["neurons"][name] - 0.5))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    for ax, (name, v) in zip(axes[len(recording["spikes"]):],
                             recording["v"].items()):
        lines = ax.plot(np.arange(len(v)) * recording["dt"], v, lw=0.8)
        if len(lines) <= 20:
            ax.legend(lines, [f"class {i}" for i in range(len(lines))],
                      fontsize="x-small", ncol=2, loc="upper left")
        verdict = "right" if recording["correct"][name] else "wrong"
        ax.set(ylabel=f"{name}\nv", title=f"{name}: label "
               f"{recording['label'][name]} ({verdict})")
    axes[-1].set(xlabel="time [ms]")
    if title:
        axes[0].set_title(f"{title}\n{axes[0].get_title()}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_delay_history(recording, path, title=""):
    """Histograms of a connection's delays, epoch by epoch, as one PNG:
    a panel per delay kind, a row per recorded epoch.

    Parameters
    ----------
    recording : list of (epoch, delays)
        What :class:`ml_genn_delays.DelayRecorder` records.
    path : str
        PNG file to write.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not recording:
        raise ValueError("plot_delay_history: the recording is empty "
                         "(did training run an epoch with the recorder?)")
    epochs = [epoch for epoch, _ in recording]
    by_kind = [d if isinstance(d, dict) else {"": d} for _, d in recording]
    kinds = list(by_kind[0])
    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 4),
                             squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        values = [np.ravel(d[kind]) for d in by_kind]
        top = max(1.0, max(float(v.max()) for v in values if v.size))
        bins = np.linspace(0.0, top, 41)
        counts = np.array([np.histogram(v, bins)[0] for v in values])
        image = ax.imshow(counts, aspect="auto", origin="lower",
                          extent=(0.0, top, -0.5, len(epochs) - 0.5),
                          cmap="viridis", interpolation="nearest")
        # At most about 20 epoch labels
        rows = np.unique(np.linspace(0, len(epochs) - 1,
                                     min(len(epochs), 20)).astype(int))
        ax.set_yticks(rows, [str(epochs[i]) for i in rows])
        ax.set(xlabel=f"{kind + ' ' if kind else ''}delay [steps]",
               ylabel="epoch", title=title)
        fig.colorbar(image, ax=ax, label="number of delays")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

