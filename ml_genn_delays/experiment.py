"""Build, compile and train a named architecture (see configs.py)."""
import os
import warnings
from dataclasses import dataclass, field

import numpy as np
from ml_genn import Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.losses import RelativeMeanSquareError
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.synapses import Exponential

from .compiler import EventPropCompiler
from .connection import Connection
from .errors import UncheckedModelWarning
from .evaluation import evaluate, example_index, record_example
from .io import check_model_dt, load_model
from .learnable import Learnable
from .neurons import AdaptiveLeakyIntegrateFire, LearnableParam
from .plots import plot_raster


@dataclass
class Model:
    """An mlGeNN network built from a Config, with handles to its parts."""
    config: object
    network: Network
    input: Population
    hidden: Population
    output: Population
    connections: list
    #: Every hidden layer (``hidden`` is the first)
    hidden_layers: list = field(default_factory=list)
    #: Connection into each hidden layer from the layer below
    feedforward: list = field(default_factory=list)


#: AdLIF hidden set-up: each parameter starts Uniform over its range and
#: is learned within it (the ranges of Bittar & Garner 2022, on which the
#: d-cAdLIF delay + adaptation work builds; its own values are not public)
ADLIF_RANGES = {"tau_mem": (3.0, 25.0), "tau_adapt": (30.0, 350.0),
                "a": (-0.5, 5.0), "b": (0.0, 2.0)}


def _lif(config, **kwargs):
    return LeakyIntegrateFire(v_thresh=1.0, tau_mem=config.tau_mem,
                              tau_refrac=None, **kwargs)


def _hidden_neuron(config, rng, n):
    if config.neuron == "lif":
        return _lif(config)
    if config.neuron != "adlif":
        raise ValueError(f"Unknown hidden neuron {config.neuron!r}; choose "
                         f"'lif' or 'adlif'")
    return AdaptiveLeakyIntegrateFire(v_thresh=1.0, **{
        name: LearnableParam(rng.uniform(low, high, n), low, high)
        for name, (low, high) in ADLIF_RANGES.items()})


def build_model(config, seed: int = 0, max_input_spikes: int = None) -> Model:
    """Build the network of ``config``; weights and initial delays are
    drawn from numpy with ``seed`` so a seed fixes the whole model.

    ``max_input_spikes`` is the most input spikes of one example (default
    8 per input channel); the input buffer holds a batch of them.
    """
    rng = np.random.default_rng(seed)
    n_in, n_hid, n_out = config.num_input, config.num_hidden, config.num_output
    if max_input_spikes is None:
        max_input_spikes = n_in * 8

    def weights(shape, mean_sd):
        return rng.normal(mean_sd[0], mean_sd[1], shape)

    def delay(shape, init_max):
        if not config.delays:
            return None
        if config.delay_kind == "axonal+dendritic":
            # d_i + d_j, each part half the range, so that the longest
            # delay (and the delay buffers) are those of the other kinds
            if config.max_delay_steps < 2:
                raise ValueError(
                    f"{config.arch}: axonal+dendritic delays split "
                    f"max_delay_steps between the two parts, so it must "
                    f"be at least 2, got {config.max_delay_steps}")
            return Learnable(tuple(rng.uniform(0.0, init_max / 2, (n,))
                                   for n in shape),
                             config.max_delay_steps // 2,
                             kind=("axonal", "dendritic"))
        if config.delay_kind == "axonal":
            shape = shape[:1]   # one delay per presynaptic neuron
        elif config.delay_kind == "dendritic":
            shape = shape[1:]   # one delay per postsynaptic neuron
        return Learnable(rng.uniform(0.0, init_max, shape),
                         config.max_delay_steps, kind=config.delay_kind)

    network = Network(default_params)
    with network:
        # Inside the network's context, so default_params apply
        # (EventProp's Exponential scale_i)
        syn = Exponential(config.tau_syn)
        inp = Population(SpikeInput(max_spikes=config.batch_size
                                    * max_input_spikes), n_in)
        layers, conns, feedforward = [], [], []
        below, n_below, init = inp, n_in, config.input_hidden
        for _ in range(config.num_layers):
            hid = Population(_hidden_neuron(config, rng, n_hid), n_hid,
                             record_spikes=True)
            feedforward.append(Connection(
                below, hid, Dense(weights((n_below, n_hid), init)), syn,
                delay=delay((n_below, n_hid), config.delay_init_max)))
            conns.append(feedforward[-1])
            if config.recurrent:
                conns.append(Connection(
                    hid, hid, Dense(weights((n_hid, n_hid),
                                            config.recurrent_weights)),
                    syn, delay=delay((n_hid, n_hid),
                                     config.recurrent_delay_init_max)))
            layers.append(hid)
            below, n_below, init = hid, n_hid, config.hidden_hidden
        out = Population(_lif(config, readout=config.readout)
                         if config.readout == "first_spike_time"
                         else LeakyIntegrate(tau_mem=config.tau_mem,
                                             readout=config.readout), n_out,
                         record_spikes=config.bump_outputs)
        conns.append(Connection(
            below, out, Dense(weights((n_below, n_out),
                                      config.hidden_output)), syn))
    return Model(config, network, inp, layers[0], out, conns, layers,
                 feedforward)


def compile_model(model: Model, name: str = None, **overrides):
    """Compile ``model`` for training with our EventPropCompiler."""
    config = model.config
    # beta2 0.99 with the rmse loss: mlGeNN's own Yin-Yang example
    beta2 = config.adam_beta2 or (0.99 if config.loss == "rmse" else None)
    kwargs = dict(example_timesteps=config.example_timesteps, dt=config.dt,
                  batch_size=config.batch_size, max_spikes=config.max_spikes,
                  optimiser=(Adam(config.lr) if beta2 is None
                             else Adam(config.lr, 0.9, beta2)),
                  delay_optimiser=Adam(config.delay_lr),
                  param_optimiser=Adam(config.param_lr))
    if config.loss == "rmse":
        # Settings of mlGeNN's own Yin-Yang example for this loss
        kwargs.update(losses=RelativeMeanSquareError(config.rmse_delta),
                      softmax_temperature=0.5, ttfs_alpha=0.1)
    else:
        kwargs["losses"] = "sparse_categorical_crossentropy"
    if config.reg_lambda:
        # Spike-count regulariser of every hidden layer (train.py)
        reg = {hid: config.reg_lambda for hid in model.hidden_layers}
        kwargs.update(reg_lambda_upper=reg, reg_lambda_lower=reg,
                      reg_nu_upper=config.reg_nu_upper)
    kwargs.update(overrides)
    return EventPropCompiler(**kwargs).compile(model.network,
                                               name=name or config.name)


def evaluate_saved(config, directories, x, y, max_input_spikes=None,
                   raster_dir=None, example=0, **compile_kwargs):
    """Test accuracy of each saved model (one directory per seed).

    The network is compiled once for training, exactly as it was trained,
    and each model's files are loaded into it before :func:`evaluate`, so
    the accuracy comes from the forward dynamics training measured.
    With ``raster_dir``, each model's raster of test example ``example``
    is written there as ``<arch>-<seed folder>.png``.
    """
    # Refused before any model is compiled or tested, not after
    if raster_dir is not None:
        example = example_index(example, len(y), "evaluate_saved")
    for directory in directories:
        check_model_dt(directory, config.dt)
    model = build_model(config, max_input_spikes=max_input_spikes)
    compiled = compile_model(model, name=f"test_{config.arch}",
                             **compile_kwargs)
    accuracies = []
    with compiled:
        for directory in directories:
            with warnings.catch_warnings():
                # The released models have no manifest: the architecture
                # stands for it (it gives the dt, checked above against
                # any manifest); their kinds and shapes are still checked
                # against its files, their synapses (Dense) need no check
                warnings.simplefilter("ignore", UncheckedModelWarning)
                load_model(compiled, directory)
            metrics, _ = evaluate(compiled, {model.input: x},
                                  {model.output: y})
            accuracies.append(metrics[model.output].result)
            if raster_dir is not None:
                name = f"{config.arch}-{os.path.basename(directory)}"
                plot_raster(record_example(compiled, {model.input: x},
                                           {model.output: y}, example),
                            os.path.join(raster_dir, f"{name}.png"),
                            title=f"{name}: test example {example}")
    return accuracies
