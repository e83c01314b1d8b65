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
