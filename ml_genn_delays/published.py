"""Training rules of the paper's scripts (mbalazs98/deventprop), each in
one place, as mlGeNN callbacks or small functions. docs/published.md lists
where we deviate from the scripts and why."""
import numpy as np
from ml_genn.callbacks import Callback


class LearningRateSchedule(Callback):
    """Sets every optimiser's learning rate from the epoch and batch, so a
    resumed run gets exactly the rates of an uninterrupted one.

    - Decay (train.py ``alpha_schedule``, 0.9975 per epoch for Yin-Yang):
      at the start of epoch ``e`` each optimiser's rate is its base rate
      times ``decay ** (e + 1)`` (as mlGeNN's OptimiserParamSchedule,
      which multiplies at the start of every epoch, epoch 0 included).
    - Ease-in of the weight optimiser (train.py ``EaseInSchedule``): from
      ``ease_in`` up by x1.05 per optimiser step until the base rate.
      train.py multiplies by ``1.05 ** batch`` at every batch (compounding
      to the full rate by batch 14 of the first epoch); we take the x1.05
      per batch that its arguments describe (the full rate after 95
      steps).

    Parameters
    ----------
    base_rates : list of float
        Base rate of each optimiser in ``compiled_network.optimisers``
        order (the weight optimiser first).
    decay : float
    ease_in : float, optional
        Starting rate of the weight optimiser.
    examples_per_step : int
        Examples per optimiser step on a backend that accumulates
        (GeNN's CPU backend; see GradientAccumulation), else 1.
    """

    def __init__(self, base_rates, decay: float = 1.0, ease_in=None,
                 factor: float = 1.05, examples_per_step: int = 1):
        self.base_rates = list(base_rates)
        self.decay = decay
        self.ease_in = ease_in
        self.factor = factor
        self.examples_per_step = examples_per_step

    def set_params(self, compiled_network, num_batches, **kwargs):
        self._optimisers = [o for o, _ in compiled_network.optimisers]
        self._steps_per_epoch = -(-num_batches // self.examples_per_step)
        self._epoch = 0

    def rate(self, index: int, epoch: int, step: int) -> float:
        rate = self.base_rates[index] * self.decay ** (epoch + 1)
        if index == 0 and self.ease_in is not None:
            rate = min(rate, self.ease_in * self.factor ** step)
        return rate

    def on_epoch_begin(self, epoch):
        self._epoch = epoch
        self.on_batch_begin(0)

    def on_batch_begin(self, batch):
        step = (self._epoch * self._steps_per_epoch
                + batch // self.examples_per_step)
        for i, optimiser in enumerate(self._optimisers):
            optimiser.alpha = self.rate(i, self._epoch, step)


def bump_silent_inputs(compiled, connections, spike_counts, amount=0.002):
    """Add ``amount`` to the input weights of hidden neurons that did not
    spike in an epoch (train.py, after every epoch, +0.002), so that
    silent neurons come back: EventProp gives them no gradient.

    Parameters
    ----------
    connections : list of Connection
        The connection into each hidden layer.
    spike_counts : list of np.ndarray
        Spikes of each hidden layer's neurons over the epoch.

    Returns
    -------
    int
        How many neurons were silent.
    """
    silent = 0
    for conn, counts in zip(connections, spike_counts):
        genn_pop = compiled.connection_populations[conn]
        var = genn_pop.vars["g"]
        var.pull_from_device()
        n_post = len(counts)
        weights = var.view.reshape((-1, n_post))
        weights[:, np.asarray(counts) == 0] += amount
        var.push_to_device()
        silent += int(np.sum(np.asarray(counts) == 0))
    return silent


def trial_steps(latest_spike: float, dt: float) -> int:
    """Trial length from the latest input spike (train.py:
    ``ceil(latest / dt)``), plus one step so that spike is simulated."""
    return int(np.ceil(latest_spike / dt)) + 1
