"""Delay pruning: the kept fraction, pruned delays stay 0 while training
goes on, bad arguments."""
import os

import numpy as np
import pytest

from ml_genn_delays import DelayPruning, get_delays
from test_axonal import TIMESTEPS, build
from test_dendritic import build as build_dendritic
from ml_genn_delays import SGD, EventPropCompiler
from networks import random_spikes


@pytest.mark.parametrize("kind", ["synaptic", "axonal", "dendritic"])
def test_pruned_delays_are_zero_and_stay_zero(kind):
    network, inp, hid, out, conns = (
        build_dendritic if kind == "dendritic" else build)(kind, True)
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy", optimiser=SGD(0.1),
        delay_optimiser=SGD(5000.0), batch_size=2,
        max_spikes=200).compile(network, name=f"prune_{kind}")
    x = random_spikes(6, 5, TIMESTEPS, 0.2, seed=4)
    y = np.array([0, 1, 2, 0, 1, 2])
    pruning = DelayPruning(0.25, every=1, start=0, stages=2)
    with compiled:
        before = [get_delays(compiled, c) for c in conns]
        compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False,
                       callbacks=[pruning])
        half = {c: pruning.kept_fraction(c) for c in conns}
        compiled.train({inp: x}, {out: y}, num_epochs=3, start_epoch=1,
                       shuffle=False, callbacks=[pruning])
        after = [get_delays(compiled, c) for c in conns]
    for conn, b, a in zip(conns, before, after):
        mask = pruning.pruned[conn]
        n = b.size
        assert half[conn] == pytest.approx(np.ceil(0.625 * n) / n)  # 1 of 2
        assert pruning.kept_fraction(conn) == pytest.approx(np.ceil(0.25 * n) / n)
        assert np.all(a[mask] == 0.0)
        # Kept delays kept learning
        assert np.any(a[~mask] != b[~mask])


def test_bad_pruning_arguments():
    for kwargs in ({"keep": 0.0}, {"keep": 1.5}, {"keep": 0.5, "every": 0},
                   {"keep": 0.5, "stages": 0}, {"keep": float("nan")},
                   {"keep": True}):
        with pytest.raises(ValueError, match="DelayPruning"):
            DelayPruning(**kwargs)
    # every=1.5 pruned at epochs 0, 3, 6, ... without a word
    for name, value in (("every", 1.5), ("stages", 2.5), ("every", True),
                        ("start", -1), ("start", 0.5)):
        with pytest.raises(ValueError, match=rf"DelayPruning: {name} must "
                           rf"be a whole number >= .*, got {value!r}"):
            DelayPruning(0.5, **{name: value})
    # keep lies in (0, 1]: 1 keeps every delay (the CLI's --keep-delays 1)
    assert DelayPruning(1.0).keep == 1.0
    # A string failed with a bare comparison TypeError
    with pytest.raises(ValueError, match=r"keep must be a number in "
                                         r"\(0, 1\], got '0.2'"):
        DelayPruning("0.2")


def test_pruning_connections_are_a_list_or_one(tmp_path):
    from networks import TinyNet
    net = TinyNet("ours")
    assert DelayPruning(0.5, connections=net.c_out).connections == [
        net.c_out]
    assert DelayPruning(0.5, connections=(net.c_out,)).connections == [
        net.c_out]
    # Failed only in train: "'str' object is not iterable" or the like
    for bad in ("Conn", [net.c_out, "Conn"], 3):
        with pytest.raises(TypeError, match="connections must be a list "
                                            "of Connections"):
            DelayPruning(0.5, connections=bad)


def test_pruning_a_network_another_compiler_built_is_refused():
    from ml_genn.compilers import EventPropCompiler as MLGeNNEventProp
    from networks import TinyNet
    net = TinyNet("ours")
    compiled = MLGeNNEventProp(20, "sparse_categorical_crossentropy",
                               max_spikes=200).compile(net.network,
                                                       name="prune_mlgenn")
    with pytest.raises(ValueError, match="DelayPruning.*another compiler"):
        DelayPruning(0.5).set_params(compiled)


def test_pruning_a_connection_without_learnable_delays_is_refused():
    from networks import TinyNet
    net = TinyNet("ours", hidden_delays=False)
    compiled = net.compile(20, "prune_plain")
    with pytest.raises(ValueError, match="no learnable delays to prune"):
        DelayPruning(0.5, connections=[net.c_out]).set_params(compiled)


def test_kept_count_is_not_rounded_up_by_float_error():
    # 1 - (1 - 0.3) is 0.30000000000000004: 7 of 20 were kept, not 6
    fraction = 1.0 - (1.0 - 0.3) * 1 / 1
    for size, kept in ((10, 3), (20, 6), (1000, 300), (7, 3)):
        mask = DelayPruning._rank(np.arange(1.0, size + 1), None, fraction)
        assert np.count_nonzero(~mask) == kept


def test_pruned_delays_are_never_unpruned():
    # A later stage asking to keep more than is left (e.g. a run resumed
    # with more epochs, whose schedule restarts) keeps what is left
    delays = np.arange(1.0, 11.0)
    half = DelayPruning._rank(delays, None, 0.5)
    again = DelayPruning._rank(np.where(half, 0.0, delays), half, 0.9)
    assert np.all(again[half]) and np.count_nonzero(~again) == 5


def test_pruned_delays_rank_below_unpruned_zeros():
    # Delays of exactly 0 are common (Learnable's default init, the clamp):
    # one tied with a pruned delay was dropped in its place, keeping 2 of
    # 4, not 3
    pruned = np.array([False, False, False, True])
    mask = DelayPruning._rank(np.array([0.0, 3.0, 0.0, 0.0]), pruned, 0.75)
    np.testing.assert_array_equal(mask, pruned)


def test_masks_survive_saving_restoring_and_a_new_train_call():
    """saved_masks -> JSON -> restore_masks, then set_params (which every
    train() call makes) keep the masks: pruned delays are zeroed after the
    next optimiser step; a restarted schedule (a resumed run) unprunes
    none. Synaptic and mixed (one mask per kind) delays."""
    import json
    from ml_genn_delays import Learnable, set_delays
    from networks import five_four_three
    from test_axonal import hidden_neuron
    rng = np.random.default_rng(2)
    mixed = Learnable((rng.uniform(1, 9, 5), rng.uniform(1, 9, 4)), 12,
                      kind=("axonal", "dendritic"))
    network, inp, hid, out, conns = five_four_three(
        lambda: hidden_neuron("lif"),
        [rng.normal(0.8, 0.4, (5, 4)), rng.normal(0.5, 0.5, (4, 3))],
        [mixed, Learnable(rng.uniform(1, 9, (4, 3)), 12)])
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy",
        max_spikes=200).compile(network, name="prune_restore")
    with compiled:
        pruning = DelayPruning(0.5)
        pruning.set_params(compiled_network=compiled)
        pruning.on_epoch_end(0, {})
        saved = json.loads(json.dumps(pruning.saved_masks(conns[:2])))
        resumed = DelayPruning(0.5, stages=2)
        resumed.restore_masks(conns[:2], saved)
        resumed.set_params(compiled_network=compiled)
        set_delays(compiled, conns[0], {"axonal": np.ones(5),
                                        "dendritic": np.ones(4)})
        set_delays(compiled, conns[1], np.ones((4, 3)))
        resumed.on_batch_end(0, {})
        for conn in conns[:2]:
            delays, mask = get_delays(compiled, conn), resumed.pruned[conn]
            if not isinstance(delays, dict):
                delays, mask = {"": delays}, {"": mask}
            for name, values in delays.items():
                np.testing.assert_array_equal(mask[name],
                                              pruning.pruned[conn][name]
                                              if name else
                                              pruning.pruned[conn])
                np.testing.assert_array_equal(values, ~mask[name])
        # Stage 1 of 2 would keep 75%: what is pruned stays pruned
        resumed.on_epoch_end(0, {})
        assert [resumed.kept_fraction(c) for c in conns[:2]] == [
            pruning.kept_fraction(c) for c in conns[:2]] == [5 / 9, 0.5]


@pytest.mark.parametrize("start_epoch", [False, True])
def test_one_epoch_per_call_without_start_epoch_warns(tmp_path,
                                                      start_epoch):
    # Every epoch was epoch 0: pruning stages never came, and each
    # checkpoint replaced the last, without a word
    import warnings
    from ml_genn_delays import ModelCheckpoint
    network, inp, hid, out, conns = build("synaptic", True)
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy",
        max_spikes=200).compile(network, name=f"per_call{start_epoch:d}")
    x = random_spikes(4, 5, TIMESTEPS, 0.2, seed=4)
    callbacks = [DelayPruning(0.25, start=1, stages=2),
                 ModelCheckpoint(tmp_path, last=False)]
    with compiled, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for epoch in range(3):
            compiled.train({inp: x}, {out: np.array([0, 1, 2, 0])},
                           num_epochs=1, callbacks=callbacks,
                           **({"start_epoch": epoch} if start_epoch else {}))
    said = sorted(str(w.message).split(" saw")[0] for w in caught
                  if "pass start_epoch=epoch" in str(w.message))
    assert said == ([] if start_epoch else ["DelayPruning",
                                            "ModelCheckpoint"])
    if start_epoch:
        assert callbacks[0].kept_fraction(conns[0]) == pytest.approx(0.25)
        assert {n.split("-")[0] for n in os.listdir(tmp_path)
                if n.endswith(".npy")} == {"0", "1", "2"}


def test_an_epoch_given_again_as_start_epoch_is_meant():
    # A retried epoch (e.g. after a NonFiniteError) is not the restart
    # from 0 of one epoch per call without start_epoch
    import warnings
    from ml_genn_delays.monitors import EpochOrder
    for epochs, warned in (([2, 3, 3, 4], False), ([0, 1, 0], True),
                           ([0, 0], True)):
        order = EpochOrder("X", "y")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch in epochs:
                order.see(epoch)
        assert len(caught) == warned


def test_pruned_delays_are_zero_after_every_batch_of_cpu_batches():
    """On the CPU a batch of 3 is 3 examples and one optimiser step;
    pruning zeroes the delays after the steps only (a read of every delay
    per example cost about 4% of the time): after every example they are
    0 all the same."""
    from ml_genn.callbacks import Callback
    network, inp, hid, out, conns = build("synaptic", True)
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy", optimiser=SGD(0.1),
        delay_optimiser=SGD(5000.0), batch_size=3,
        max_spikes=200).compile(network, name="prune_steps")
    x = random_spikes(12, 5, TIMESTEPS, 0.2, seed=4)
    y = np.arange(12) % 3
    pruning = DelayPruning(0.25, every=1, start=0, stages=1)
    moved = []

    class Check(Callback):
        def on_batch_end(self, batch, metrics):
            for conn in conns:
                mask = pruning.pruned[conn]
                if mask is not None:
                    delays = get_delays(compiled, conn)
                    assert np.all(delays[mask] == 0.0), batch
                    moved.append(delays[~mask].copy())
    with compiled:
        assert compiled.examples_per_step == 3
        compiled.train({inp: x}, {out: y}, num_epochs=3, shuffle=False,
                       callbacks=[pruning, Check()])
    # Checked in epochs 1 and 2, in which the kept delays learned
    assert len(moved) == 2 * 12 * len(conns)
    assert any(np.any(a != b) for a, b in zip(moved, moved[len(conns):]))
