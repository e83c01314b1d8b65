"""Recording one example and drawing its raster."""
import numpy as np
import pytest
from ml_genn.callbacks import SpikeRecorder

from ml_genn_delays import evaluate, plot_raster, record_example
from networks import TinyNet, output_trace, random_spikes

TIMESTEPS = 40


def test_recording_is_what_the_network_did(tmp_path):
    net = TinyNet("ours", recurrent=True)
    x = random_spikes(3, 5, TIMESTEPS, 0.2, seed=3)
    y = np.array([0, 2, 1])
    compiled = net.compile(TIMESTEPS, "raster")
    with compiled:
        rec = record_example(compiled, {net.inp: x}, {net.out: y}, example=1)
        _, data = evaluate(compiled, {net.inp: x}, {net.out: y},
                           callbacks=[SpikeRecorder(net.hid, key="hid")])
        trace = output_trace(compiled, net, x[1:2], y[1:2])[0]
        metrics, _ = evaluate(compiled, {net.inp: x}, {net.out: y})
        right = [record_example(compiled, {net.inp: x}, {net.out: y},
                                example=i)["correct"][net.out.name]
                 for i in range(3)]
    assert list(rec["spikes"]) == [net.inp.name, net.hid.name]
    # Input spikes come from the example itself
    times, ids = rec["spikes"][net.inp.name]
    counts = np.diff(np.concatenate(([0], x[1].end_spikes)))
    np.testing.assert_array_equal(np.bincount(ids, minlength=5), counts)
    np.testing.assert_allclose(times, x[1].spike_times)
    # Hidden spikes and output voltages are those of example 1
    times, ids = rec["spikes"][net.hid.name]
    assert len(times) > 0
    np.testing.assert_allclose(times, data["hid"][0][1])
    np.testing.assert_array_equal(ids, data["hid"][1][1])
    assert not np.array_equal(times, data["hid"][0][0])
    assert rec["v"][net.out.name].shape == (TIMESTEPS, 3)
    np.testing.assert_allclose(rec["v"][net.out.name], trace)
    assert rec["label"] == {net.out.name: 2}
    assert rec["neurons"] == {net.inp.name: 5, net.hid.name: 4,
                              net.out.name: 3}
    assert rec["correct"][net.out.name] == right[1]
    assert sum(right) == round(3 * metrics[net.out].result)

    path = tmp_path / "raster.png"
    plot_raster(rec, str(path), title="tiny")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_example_and_no_recording_are_refused():
    net = TinyNet("ours")
    x = random_spikes(2, 5, TIMESTEPS, 0.2, seed=3)
    compiled = net.compile(TIMESTEPS, "raster_bad")
    with compiled:
        y = np.zeros(2, dtype=int)
        with pytest.raises(ValueError, match="example 2 is not in the 2"):
            record_example(compiled, {net.inp: x}, {net.out: y}, example=2)
        # Not counted from the end: -1 selected no example at all
        with pytest.raises(ValueError, match="example -1 is not in the 2"):
            record_example(compiled, {net.inp: x}, {net.out: y}, example=-1)
        with pytest.raises(TypeError):
            record_example(compiled, {net.inp: x}, {net.out: y}, example=1.0)
        with pytest.raises(ValueError, match="same number of examples"):
            record_example(compiled, {net.inp: x}, {net.out: y[:1]})
        # evaluate itself too (it zipped the batches: one example, silently)
        with pytest.raises(ValueError, match="evaluate: every input"):
            evaluate(compiled, {net.inp: x}, {net.out: y[:1]})
        with pytest.raises(ValueError, match="one integer class"):
            record_example(compiled, {net.inp: x}, {net.out: [1.7, 0.0]})
    net.hid.record_spikes = False  # as if built without recording
    with compiled:
        with pytest.raises(ValueError, match="record_spikes=True"):
            record_example(compiled, {net.inp: x}, {net.out: [0, 0]})


@pytest.mark.parametrize("mixed", [False, True])
def test_delay_recorder_and_history_plot(tmp_path, mixed):
    # Delays over training, every kind (ConnVarRecorder sees synaptic
    # delays only), and their histograms epoch by epoch
    from ml_genn.optimisers import Adam
    from ml_genn_delays import (DelayRecorder, EventPropCompiler,
                                get_delays, plot_delay_history)
    from test_mixed import build
    network, inp, hid, out, conns = build(mixed, True)
    compiled = EventPropCompiler(
        40, "sparse_categorical_crossentropy", max_spikes=200,
        delay_optimiser=Adam(0.5)).compile(network, name=f"rec{mixed:d}")
    recorder = DelayRecorder(conns[0], key="delays")
    x = random_spikes(4, 5, 40, 0.2, seed=4)
    with compiled:
        first = get_delays(compiled, conns[0])
        _, data = compiled.train({inp: x}, {out: np.array([0, 1, 2, 0])},
                                 num_epochs=3, callbacks=[recorder])
        last = get_delays(compiled, conns[0])
    epochs = [epoch for epoch, _ in data["delays"]]
    assert epochs == [0, 1, 2]
    flat = (lambda d: np.concatenate([np.ravel(v) for v in d.values()])
            if isinstance(d, dict) else np.ravel(d))
    np.testing.assert_array_equal(flat(data["delays"][-1][1]), flat(last))
    assert not np.array_equal(flat(data["delays"][0][1]), flat(first))
    plot_delay_history(data["delays"], tmp_path / "delays.png")
    assert (tmp_path / "delays.png").read_bytes()[:4] == b"\x89PNG"
