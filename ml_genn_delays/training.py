"""Training callbacks: CPU batch accumulation, host all-reduce across
processes, model checkpoints and batch progress (the checks that warn or
stop are in :mod:`ml_genn_delays.monitors`)."""
import os

import numpy as np
from ml_genn.callbacks import Callback

from .backends import whole_array
from .io import save_model
from .monitors import EpochOrder
from .wholes import require_whole


class GradientAccumulation(Callback):
    """Batch-N semantics on a backend that simulates one example at a time.

    GeNN's CPU backend runs batch size 1, so the compiled network sees one
    example per mlGeNN "batch". Gradients are summed over ``n`` examples,
    scaled by 1/n (the batch mean) and applied in one optimiser step.

    mlGeNN runs example k's backward pass while example k+1 runs forward,
    so at the end of example b the gradients hold examples 0..b-1 of the
    epoch. A step is taken at the end of example b when b > 0 and b % n == 0:
    examples b-n..b-1 form one batch, as batch b/n - 1 would on a GPU with
    batch size n. The first step of an epoch equals the GPU's exactly.
    Later ones differ slightly: on the GPU the whole batch runs forward
    before the previous batch's step and backward after it; here only its
    first example (b) does, the others run forward after the step. Like
    mlGeNN on the GPU, the last (possibly
    partial) batch of an epoch is discarded by the ZeroGradient update at
    the start of the next epoch. The Adam step count is the batch index the
    GPU would use: epoch * ceil(examples / n) + b / n.

    With ``all_reduce`` (data-parallel training across processes), the
    summed gradients are all-reduced across ranks before the step.

    This replaces mlGeNN's per-batch ``GradientLearn`` callback.
    """

    def __init__(self, n: int, all_reduce=None):
        self.n = n
        self.all_reduce = all_reduce

    def set_params(self, compiled_network, num_batches, **kwargs):
        self._net = compiled_network
        self._batches_per_epoch = (num_batches + self.n - 1) // self.n
        self._epoch = 0
        if self.all_reduce is not None:
            # Unequal shares would pair one rank's all-reduce with another
            # rank's next step, or leave a rank waiting for ever
            self.all_reduce.check_same(num_batches, "examples per epoch")

    def on_epoch_begin(self, epoch):
        self._epoch = epoch

    def on_batch_end(self, batch, metrics):
        if batch == 0 or batch % self.n != 0:
            return
        step = self._epoch * self._batches_per_epoch + batch // self.n
        genn_model = self._net.genn_model
        if self.all_reduce is not None:
            self.all_reduce()
        genn_model.custom_update("GradientScale")
        for optimiser, custom_updates in self._net.optimisers:
            for cu in custom_updates:
                optimiser.set_step(cu, step)
        genn_model.custom_update("GradientLearn")


class HostAllReduce:
    """Sums GeNN variables across MPI ranks on the host.

    mlGeNN's communicator reduces gradients with NCCL, which only GeNN's
    CUDA backend has; on the CPU backend this does the same on the host.

    Parameters
    ----------
    communicator : ml_genn.communicators.Communicator
        mlGeNN's MPI communicator (its mpi4py ``comm`` is used for
        in-place buffer reductions; others fall back to ``reduce_sum``).
    genn_vars : list
        pygenn variables (e.g. every ``Gradient`` and ``DelayGradient``).
    """

    def __init__(self, communicator, genn_vars):
        self.communicator = communicator
        self.genn_vars = genn_vars

    def _sum(self, values):
        """``values`` summed over the ranks, in place."""
        mpi_comm = getattr(self.communicator, "comm", None)
        if mpi_comm is not None:
            from mpi4py import MPI
            mpi_comm.Allreduce(MPI.IN_PLACE, values)
        else:
            values[:] = self.communicator.reduce_sum(values.copy())

    def __call__(self):
        for var in self.genn_vars:
            var.pull_from_device()
            self._sum(whole_array(var))
            var.push_to_device()

    def check_same(self, value: int, what: str):
        """Raise on every rank at once (none is left waiting) unless
        ``value`` is the same on all: the ranks' sum squared equals the
        number of ranks times the sum of squares only then."""
        sums = np.array([value, value * value], dtype=np.float64)
        self._sum(sums)
        ranks = self.communicator.num_ranks
        if sums[0] ** 2 != ranks * sums[1]:
            raise ValueError(
                f"Every MPI rank must train on the same number of "
                f"{what}: this rank (rank {self.communicator.rank}) has "
                f"{value}, the {ranks} ranks {int(sums[0])} together; give "
                f"each rank an equal share (drop the remainder)")


class ModelCheckpoint(Callback):
    """Saves weights, delays and learned neuron parameters with
    :func:`ml_genn_delays.save_model` (crash-safe
    ``<epoch>-<connection>-g.npy`` / ``-d.npy`` (``-da``, ``-dd``) files,
    ``<epoch>-<population>-<parameter>.npy`` and a manifest) at the end
    of every ``every``-th epoch.

    Parameters
    ----------
    directory : str
        Folder for the files, e.g. ``out/<arch>/<seed>``.
    every : int
        Save after every epoch whose number (counted from 1) is a multiple
        of this. Files are named by mlGeNN's epoch, counted from 0
        (``every=2``: ``1-``, ``3-``, ...).
    last : bool
        Also save after the last epoch of each ``train`` call. Turn it off
        when training one epoch per call (else every epoch is saved).

    Notes
    -----
    Epochs are the numbers mlGeNN gives: each ``train`` call counts from
    its ``start_epoch`` (0 unless given). Training one epoch per call,
    pass ``start_epoch=epoch`` (a repeated number warns).
    """

    def __init__(self, directory, every: int = 1, last: bool = True):
        # 0 would fail with a ZeroDivisionError after the first epoch
        require_whole(every, "ModelCheckpoint: every",
                      meaning="epochs between saves")
        if not isinstance(directory, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint: directory must be a folder "
                            f"path, got {directory!r}")
        self.directory = directory
        self.every = every
        self.last = last
        self._order = EpochOrder("ModelCheckpoint",
                                 "each save replaces the last")

    def set_params(self, compiled_network, num_epochs, **kwargs):
        self._net = compiled_network
        self._num_epochs = num_epochs
        self._first = None

    def on_epoch_begin(self, epoch):
        self._order.see(epoch)
        if self._first is None:
            self._first = epoch

    def on_epoch_end(self, epoch, metrics):
        last = self.last and epoch == self._first + self._num_epochs - 1
        if last or (epoch + 1) % self.every == 0:
            save_model(self._net, self.directory, checkpoint=epoch)


class BatchProgress(Callback):
    """A tqdm bar over the batches of one pass (on the CPU backend: its
    examples), cleared when the pass ends, so that a long SHD or SSC epoch
    shows its progress beneath the runner's bar over epochs.

    Parameters
    ----------
    desc : str
        Shown before the bar (e.g. "train", "test").
    **tqdm_kwargs
        More arguments for tqdm (e.g. ``file``, ``mininterval``,
        ``disable=False`` to draw where the output is not a terminal).
    """

    def __init__(self, desc, **tqdm_kwargs):
        # disable=None: no bar where the output is not a terminal (logs)
        self.tqdm_kwargs = {"desc": desc, "leave": False, "disable": None,
                            **tqdm_kwargs}
        self._num_batches = None
        self._bar = None

    def set_params(self, num_batches=None, **kwargs):
        self._num_batches = num_batches

    def _open(self):
        from tqdm import tqdm
        self._bar = tqdm(total=self._num_batches, **self.tqdm_kwargs)

    def _close(self, metrics):
        self._bar.close()

    def on_epoch_begin(self, epoch):
        # One pass per epoch: count its batches from 0 again
        self._bar.reset(total=self._num_batches)

    def on_batch_end(self, batch, metrics):
        self._bar.update(1)

    on_train_begin = on_test_begin = _open
    on_train_end = on_test_end = _close
