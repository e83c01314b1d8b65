"""Build, compile and train a named architecture (see configs.py)."""
from dataclasses import dataclass

import numpy as np
from ml_genn import Network, Population
from ml_genn.callbacks import OptimiserParamSchedule
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.initializers import Normal, Uniform
from ml_genn.losses import RelativeMeanSquareError
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.synapses import Exponential
from tqdm import tqdm

from .compiler import EventPropCompiler
from .connection import Connection
from .evaluation import evaluate
from .io import load_model
from .learnable import Learnable


@dataclass
class Model:
    """An mlGeNN network built from a Config, with handles to its parts."""
    config: object
    network: Network
    input: Population
    hidden: Population
    output: Population
    connections: list


def _lif(config, **kwargs):
    return LeakyIntegrateFire(v_thresh=1.0, tau_mem=config.tau_mem,
                              tau_refrac=None, **kwargs)


def build_model(config, seed: int = 0) -> Model:
    """Build the network of ``config``; weights and initial delays are
    drawn from numpy with ``seed`` so a seed fixes the whole model."""
    rng = np.random.default_rng(seed)
    n_in, n_hid, n_out = config.num_input, config.num_hidden, config.num_output

    def weights(shape, mean_sd):
        return rng.normal(mean_sd[0], mean_sd[1], shape)

    def delay(shape):
        if not config.delays:
            return None
        init = rng.uniform(0.0, config.delay_init_max, shape)
        return Learnable(init, config.max_delay_steps)

    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=config.batch_size * n_in * 8),
                         n_in)
        hid = Population(_lif(config), n_hid, record_spikes=True)
        out = Population(_lif(config, readout=config.readout)
                         if config.readout == "first_spike_time"
                         else LeakyIntegrate(tau_mem=config.tau_mem,
                                             readout=config.readout), n_out)
        syn = Exponential(config.tau_syn)
        conns = [Connection(inp, hid,
                            Dense(weights((n_in, n_hid), config.input_hidden)),
                            syn, delay=delay((n_in, n_hid)))]
        if config.recurrent:
            conns.append(Connection(
                hid, hid, Dense(weights((n_hid, n_hid),
                                        config.recurrent_weights)),
                syn, delay=delay((n_hid, n_hid))))
        conns.append(Connection(
            hid, out, Dense(weights((n_hid, n_out), config.hidden_output)),
            syn))
    return Model(config, network, inp, hid, out, conns)


def compile_model(model: Model, name: str = None, **overrides):
    """Compile ``model`` for training with our EventPropCompiler."""
    config = model.config
    kwargs = dict(example_timesteps=config.example_timesteps, dt=config.dt,
                  batch_size=config.batch_size, max_spikes=config.max_spikes,
                  optimiser=Adam(config.lr),
                  delay_optimiser=Adam(config.delay_lr))
    if config.loss == "rmse":
        # Settings of mlGeNN's own Yin-Yang example for this loss
        kwargs.update(losses=RelativeMeanSquareError(config.rmse_delta),
                      optimiser=Adam(config.lr, 0.9, 0.99),
                      softmax_temperature=0.5, ttfs_alpha=0.1)
    else:
        kwargs["losses"] = "sparse_categorical_crossentropy"
    kwargs.update(overrides)
    return EventPropCompiler(**kwargs).compile(model.network,
                                               name=name or config.name)


def train(model: Model, compiled, x_train, y_train, x_test, y_test,
          epochs: int = None, seed: int = 0, progress: bool = True):
    """Train for ``epochs`` (default: the config's) and return the test
    accuracy measured with :func:`evaluate` after each epoch.

    ``seed`` seeds numpy's global generator, which mlGeNN uses to shuffle
    the training set every epoch.
    """
    np.random.seed(seed)
    config = model.config
    epochs = config.epochs if epochs is None else epochs
    # Decays the alpha of every optimiser (weights and delays)
    callbacks = ([] if config.lr_decay == 1.0 else
                 [OptimiserParamSchedule(
                     "alpha", lambda epoch, alpha: alpha * config.lr_decay)])
    history = []
    bar = tqdm(range(epochs), disable=not progress, desc=model.config.name)
    for epoch in bar:
        compiled.train({model.input: x_train}, {model.output: y_train},
                       start_epoch=epoch, num_epochs=1, callbacks=callbacks)
        metrics, _ = evaluate(compiled, {model.input: x_test},
                              {model.output: y_test})
        history.append(metrics[model.output].result)
        bar.set_postfix(test=f"{history[-1]:.3f}")
    return history


def evaluate_saved(config, directories, x, y, **compile_kwargs):
    """Test accuracy of each saved model (one directory per seed).

    The network is compiled once for training, exactly as it was trained,
    and each model's files are loaded into it before :func:`evaluate`, so
    the accuracy comes from the forward dynamics training measured.
    """
    model = build_model(config)
    compiled = compile_model(model, name=f"test_{config.arch}",
                             **compile_kwargs)
    accuracies = []
    with compiled:
        for directory in directories:
            load_model(compiled, directory)
            metrics, _ = evaluate(compiled, {model.input: x},
                                  {model.output: y})
            accuracies.append(metrics[model.output].result)
    return accuracies
