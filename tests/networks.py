"""Small networks and inputs shared by the tests (real GeNN, CPU)."""
import numpy as np
from ml_genn import Connection as MLGeNNConnection, Network, Population
from ml_genn.callbacks import Callback, SpikeRecorder
from ml_genn.compilers import EventPropCompiler as MLGeNNEventPropCompiler
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.synapses import Exponential
from ml_genn.utils.data import preprocess_spikes

from ml_genn_delays import Connection, EventPropCompiler, Learnable, SGD


def random_spikes(num_examples, num_neurons, timesteps, rate, seed,
                  quiet_end=0):
    """Independent random spike trains, at most one spike per step and
    none in the last ``quiet_end`` steps."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num_examples):
        mask = rng.random((timesteps, num_neurons)) < rate
        mask[timesteps - quiet_end:] = False
        steps, ids = np.nonzero(mask)
        out.append(preprocess_spikes(steps.astype(float), ids, num_neurons))
    return out


class TinyNet:
    """input -> hidden LIF (optionally recurrent) -> LI readout.

    ``hidden``: another hidden neuron (e.g. AdaptiveLeakyIntegrateFire).

    ``style`` picks how delays are asked for: "ours" (Connection with
    delay=Learnable), "legacy" (mlGeNN's Dense(w, d) + delay_learn_conns,
    compiled by our compiler) or "mlgenn" (the same, compiled by mlGeNN).
    """

    def __init__(self, style, num_in=5, num_hid=4, num_out=3,
                 recurrent=False, max_delay=10, seed=1, hidden_delays=True,
                 readout="avg_var_exp_weight", tau_syn=5.0, hidden=None):
        rng = np.random.default_rng(seed)
        self.w_in = rng.normal(0.8, 0.4, (num_in, num_hid))
        self.d_in = rng.uniform(1, max_delay - 2, (num_in, num_hid))
        self.w_rec = rng.normal(0.0, 0.3, (num_hid, num_hid))
        self.d_rec = rng.uniform(1, max_delay - 2, (num_hid, num_hid))
        self.w_out = rng.normal(0.5, 0.5, (num_hid, num_out))
        self.d_out = rng.uniform(1, max_delay - 2, (num_hid, num_out))
        self.style = style
        self.max_delay = max_delay

        self.network = Network(default_params)
        learn = []
        with self.network:
            self.inp = Population(SpikeInput(max_spikes=10000), num_in)
            hidden = hidden or LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                                  tau_refrac=None)
            self.hid = Population(hidden, num_hid, record_spikes=True)
            self.out = Population(LeakyIntegrate(tau_mem=20.0,
                                                 readout=readout), num_out)
            self.c_in = self._conn(self.inp, self.hid, self.w_in, self.d_in,
                                   tau_syn, learn)
            self.c_rec = (self._conn(self.hid, self.hid, self.w_rec,
                                     self.d_rec, tau_syn, learn)
                          if recurrent else None)
            self.c_out = (self._conn(self.hid, self.out, self.w_out,
                                     self.d_out, tau_syn, learn)
                          if hidden_delays else
                          Connection(self.hid, self.out, Dense(self.w_out),
                                     Exponential(tau_syn)))
        self.learn = learn

    def _conn(self, pre, post, w, d, tau_syn, learn):
        if self.style == "ours":
            return Connection(pre, post, Dense(w), Exponential(tau_syn),
                              delay=Learnable(d, self.max_delay))
        conn = MLGeNNConnection(pre, post, Dense(w, d), Exponential(tau_syn),
                                max_delay_steps=self.max_delay)
        learn.append(conn)
        return conn

    def compile(self, timesteps, name, optimiser=None, delay_optimiser=None,
                batch_size=1, **kwargs):
        optimiser = optimiser or SGD(1e-3)
        delay_optimiser = delay_optimiser or SGD(1e-3)
        cls = (MLGeNNEventPropCompiler if self.style == "mlgenn"
               else EventPropCompiler)
        if self.style != "ours":
            kwargs["delay_learn_conns"] = self.learn
        compiler = cls(example_timesteps=timesteps,
                       losses="sparse_categorical_crossentropy",
                       optimiser=optimiser, delay_optimiser=delay_optimiser,
                       batch_size=batch_size,
                       **{"max_spikes": 200, **kwargs})
        return compiler.compile(self.network, name=name)

    def conns(self):
        return [c for c in (self.c_in, self.c_rec, self.c_out)
                if c is not None]


def pull(compiled, conn, var):
    """Values of a connection's variable (or, for a Population, a
    neuron variable)."""
    groups = (compiled.neuron_populations if conn in
              compiled.neuron_populations else compiled.connection_populations)
    genn_var = groups[conn].vars[var]
    genn_var.pull_from_device()
    return np.array(genn_var.values, dtype=np.float64)


class GradientProbe(Callback):
    """Callback that copies the accumulated gradients at the end of the
    last timestep of example ``batch`` (before any optimiser step); they
    come back in the callback data under "gradients"."""

    def __init__(self, conn_vars, timesteps, batch=1, key="gradients"):
        self.conn_vars = conn_vars
        self.key = key
        self.timesteps = timesteps
        self.batch = batch
        self._values = None

    def set_params(self, compiled_network, **kwargs):
        self._net = compiled_network

    def get_data(self):
        return self.key, self._values

    def on_batch_begin(self, batch):
        self._batch = batch

    def on_timestep_end(self, timestep):
        if self._batch == self.batch and timestep == self.timesteps - 1:
            self._values = self._capture(self._net)

    def _capture(self, net):
        return [pull(net, c, v) for c, v in self.conn_vars]


class DelayProbe(GradientProbe):
    """A GradientProbe of whole connections: per connection a dict of
    "g", "Gradient" and, for every delay part (kind), "<kind>/d" and
    "<kind>/dgrad" (flat); a connection with one part also has "d" and
    "dgrad". Comes back under "probe"."""

    def __init__(self, conns, timesteps, batch=1):
        super().__init__([], timesteps, batch=batch, key="probe")
        self.conns = conns

    def _capture(self, net):
        values = []
        for conn in self.conns:
            found = {name: pull(net, conn, name) for name in ("g", "Gradient")}
            parts = net.learnable_delays[conn].parts
            for kind, _ in parts:
                for key, name in (("d", kind.delay_var(conn)),
                                  ("dgrad", kind.gradient_var(conn))):
                    holder = kind.holder(conn, name, net.neuron_populations,
                                         net.connection_populations)
                    found[f"{kind.name}/{key}"] = np.array(
                        kind.pull(holder, name), dtype=np.float64).ravel()
                    if len(parts) == 1:
                        found[key] = found[f"{kind.name}/{key}"]
            values.append(found)
        return values


def train_probed(network, inp, hid, out, conns, name, labels, timesteps,
                 probe_conns=None, probe_example=0):
    """Compile (SGD 1e-3 for weights and delays), train one epoch on
    ``len(labels)`` random examples and return the DelayProbe of
    ``probe_conns`` (default ``conns``) once example ``probe_example``'s
    gradient is complete (at the end of the next example) and the hidden
    spike times of that example (times, ids)."""
    compiled = EventPropCompiler(
        timesteps, "sparse_categorical_crossentropy", optimiser=SGD(1e-3),
        delay_optimiser=SGD(1e-3), max_spikes=200).compile(network,
                                                           name=name)
    x = random_spikes(len(labels), 5, timesteps, 0.2, seed=3)
    probe = DelayProbe(conns if probe_conns is None else probe_conns,
                       timesteps, batch=probe_example + 1)
    with compiled:
        _, data = compiled.train({inp: x}, {out: labels}, num_epochs=1,
                                 shuffle=False,
                                 callbacks=[probe, SpikeRecorder(hid,
                                                                 key="hid")])
    return data["probe"], (data["hid"][0][probe_example],
                           data["hid"][1][probe_example])


def output_trace(compiled, net, x, y):
    """Output membrane trace of ``net`` over examples ``x`` (evaluate)."""
    from ml_genn.callbacks import VarRecorder
    from ml_genn_delays import evaluate
    _, data = evaluate(compiled, {net.inp: x}, {net.out: y},
                       callbacks=[VarRecorder(net.out, "v", key="v")])
    return np.asarray(data["v"])


def assert_delays_load_back(network, conns, model_dir, saved, timesteps,
                            name):
    """``load_model`` into ``network`` before compiling, then again into
    the compiled network: both times its delays are ``saved``."""
    from ml_genn_delays import get_delays, load_model
    load_model(network, model_dir)
    compiled = EventPropCompiler(
        timesteps, "sparse_categorical_crossentropy",
        max_spikes=200).compile(network, name=name)
    with compiled:
        for c, d in zip(conns, saved):
            np.testing.assert_allclose(get_delays(compiled, c), d)
        load_model(compiled, model_dir)
        for c, d in zip(conns, saved):
            np.testing.assert_allclose(get_delays(compiled, c), d)


def five_four_three(hidden_neuron, weights, delays):
    """input (5) -> hidden (4, recorded; recurrent when three weight
    matrices are given) -> output (3, mlGeNN's LI readout): the network
    of the delay-kind tests. ``hidden_neuron()`` makes the hidden neuron
    (inside the network, which gives it EventProp's default parameters);
    ``delays``: a ``Learnable`` (or None) per connection. Returns
    (network, inp, hid, out, connections)."""
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10000), 5)
        hid = Population(hidden_neuron(), 4, record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=20.0,
                                        readout="avg_var_exp_weight"), 3)
        pairs = ([(inp, hid)] + [(hid, hid)] * (len(weights) == 3)
                 + [(hid, out)])
        conns = [Connection(pre, post, Dense(w), Exponential(5.0), delay=d)
                 for (pre, post), w, d in zip(pairs, weights, delays)]
    return network, inp, hid, out, conns
