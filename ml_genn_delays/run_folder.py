"""A training run's folder, ``out/<arch>/<seed>/``: its name, its
``run.json`` (what the run was made with), the checks before a run starts
there or is resumed, and the one-process rule of the training runner."""
import json
import os
import shutil
import warnings
import weakref
import zlib

try:
    import fcntl
except ImportError:       # not POSIX: no lock (as io_journal)
    fcntl = None
from dataclasses import asdict

from .configs import Config
from .io import remove_checkpoints
from .io_files import MANIFEST, is_model_file
from .resume import saved_epoch


RUN_FILE = "run.json"
#: Config fields a resumed run may change (train longer, stop later; the
#: name is a label: yy_ff_30 --hidden 5 is yy_ff_5)
RESUMABLE_CHANGES = ("epochs", "patience", "name")


class RunExistsError(FileExistsError):
    """A fresh run would overwrite an earlier one in the same folder."""


class ResumeMismatchError(ValueError):
    """``--resume`` asked with other settings than the run was made with."""


class RunInUseError(RunExistsError):
    """Another process is training in the run's folder."""


#: Held (flock) by the process training in a run's folder
LOCK_FILE = ".training.lock"


class RunLock:
    """The run's folder, taken for this process: an exclusive lock (flock)
    on a file in it, which the OS also drops when the process ends (a
    second --overwrite deleted a live run's files under it, and a second
    --resume wrote the same files). Raises :class:`RunInUseError` while
    another process holds it. :meth:`close` lets it go, removing the lock
    file, and the folder if this made it and nothing was written there.
    Where the file system cannot lock (no flock, some network file
    systems), it warns and goes on without (and leaves no file)."""

    def __init__(self, directory):
        self.directory = directory
        self._made = not os.path.isdir(directory)
        self._path = os.path.join(directory, LOCK_FILE)
        self._file, self._closed = None, False
        for _ in range(10):
            # Again when a holder closing removed the file (or the
            # folder) between this open and this lock
            os.makedirs(directory, exist_ok=True)
            try:
                lock = open(self._path, "a")
            except FileNotFoundError:
                continue
            if not self._lock(lock):
                lock.close()
                self._remove_file()
                return
            if self._ours(lock):
                self._file = lock
                # (closed with the object if close() is never called)
                weakref.finalize(self, lock.close)
                return
            lock.close()
        warnings.warn(f"{directory}: the run folder's lock file keeps "
                      f"changing under this process; going on without a "
                      f"lock: make sure no other process trains there",
                      stacklevel=3)

    def _lock(self, lock) -> bool:
        """Whether ``lock`` is now held (False: no locking here)."""
        if fcntl is None:
            warnings.warn(f"{self.directory}: no file locks on this system; "
                          f"make sure no other process trains there",
                          stacklevel=4)
            return False
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise RunInUseError(
                f"Another process is training in {self.directory}: wait "
                f"for it to end (then --resume or --overwrite), or write "
                f"elsewhere with --out or another --seed") from None
        except OSError as error:
            warnings.warn(f"{self.directory}: cannot lock the run folder "
                          f"({error}); make sure no other process trains "
                          f"there", stacklevel=4)
            return False
        return True

    def _ours(self, lock) -> bool:
        """Whether the lock file at the path is the one ``lock`` holds."""
        try:
            return os.path.samestat(os.stat(self._path),
                                    os.fstat(lock.fileno()))
        except OSError:
            return False

    def _remove_file(self):
        try:
            os.unlink(self._path)
        except OSError:
            pass

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self._file is not None:
            try:
                if self._ours(self._file):
                    # Still held: a process that opened it meanwhile finds
                    # it gone once it gets the lock, and opens it again
                    self._remove_file()
            finally:
                self._file.close()
        if self._made:
            try:
                os.rmdir(self.directory)    # only if nothing is there
            except OSError:
                pass


class SeveralProcessesError(ValueError):
    """The runner started under mpirun, or given a communicator."""


def run_directory(out, config, seed) -> str:
    """``out/<arch>/<seed>``: the release layout."""
    return os.path.join(out, config.arch, str(seed))


def model_name(directory) -> str:
    """The GeNN model name of the run writing ``directory``
    (``out/<arch>/<seed>``): GeNN builds into ``<name>..._CODE`` in the
    working directory, so runs started side by side (one per seed, or per
    --out of a sweep over --batch-size) need names of their own, or one
    builds over (or loads the code built for) another's network; a
    resumed run keeps its name and reuses its build."""
    path = os.path.abspath(directory)
    arch, seed = os.path.split(path)
    digest = zlib.crc32(path.encode())
    return f"{os.path.basename(arch)}_{seed}_{digest:08x}"


def run_description(config, splits, seed, keep_delays=None) -> dict:
    """What ``run.json`` records: the whole Config (so the model can be
    rebuilt exactly, e.g. by models/test.py), the seed, the split sizes
    and the delay pruning (``keep_delays``; None: none; TrainingRun adds
    its stages as ``pruning``)."""
    return {"config": json.loads(json.dumps(asdict(config))), "seed": seed,
            "examples": {name: 0 if part is None else len(part)
                         for name, part in (("train", splits.train),
                                            ("valid", splits.valid),
                                            ("test", splits.test))},
            "keep_delays": keep_delays if config.delays else None}


def load_run_json(directory):
    """``directory/run.json`` as written, or None."""
    path = os.path.join(directory, RUN_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def read_run(directory):
    """``directory/run.json`` with its Config rebuilt, or None."""
    run = load_run_json(directory)
    if run is None:
        return None
    # JSON has no tuples
    run["config"] = Config(**{k: tuple(v) if isinstance(v, list) else v
                              for k, v in run["config"].items()})
    return run


def _differences(saved, now):
    keys = sorted(set(saved) | set(now))
    return [f"{k}: {saved.get(k)!r} then, {now.get(k)!r} now" for k in keys
            if saved.get(k) != now.get(k) and k not in RESUMABLE_CHANGES]


#: Set to 1 to start independent runs (each its own --seed or --out)
#: under a launcher that sets the MPI variables below, e.g. Slurm's srun
INDEPENDENT_RUNS = "ML_GENN_DELAYS_INDEPENDENT_RUNS"


def _launched_ranks():
    """Ranks the MPI launcher says it started (mpich, Open MPI); 1 where
    neither says, or says something unreadable."""
    ranks = 1
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        try:
            ranks = max(ranks, int(os.environ.get(name) or 1))
        except ValueError:
            pass
    return ranks


def refuse_several_processes(compile_kwargs=None):
    """The runner trains one process on all the data and writes one
    folder: under mpirun every rank would train alone and all would write
    there, silently."""
    if (compile_kwargs or {}).get("communicator") is not None or (
            _launched_ranks() > 1 and os.environ.get(INDEPENDENT_RUNS)
            != "1"):
        raise SeveralProcessesError(
            f"The training runner (and the training examples) run one "
            f"process: under mpirun each rank would train on all of the "
            f"data and every rank would write the same run folder. Run it "
            f"without mpirun, or train several processes through the API "
            f"(README: Several processes). Independent runs, each with "
            f"its own --seed or --out, may set {INDEPENDENT_RUNS}=1")


def check_directory(directory, description, resume, overwrite):
    """Refuse to overwrite an earlier run or to resume one with other
    settings; the resumed run's run.json (None otherwise).

    Parameters
    ----------
    directory : str
        The run's folder, ``out/<arch>/<seed>``.
    description : dict
        What the new run's ``run.json`` will record
        (:func:`run_description`).
    resume, overwrite : bool
        As the training examples' --resume and --overwrite.
    """
    names = (os.listdir(directory) if os.path.isdir(directory)
             else [])
    # Model files too (a saved or released model without a run's
    # files): a fresh run removes every other checkpoint
    earlier = [n for n in ("training.csv", "resume", RUN_FILE, MANIFEST)
               if n in names]
    models = sorted(n for n in names if is_model_file(n))
    if models:
        earlier.append(f"model files such as {models[0]}")
    if not resume:
        if earlier == [RUN_FILE] and not overwrite:
            raise RunExistsError(
                f"{directory} holds a run that stopped before its "
                f"first epoch ended ({RUN_FILE} only, nothing to "
                f"resume); start it again with --overwrite, or write "
                f"elsewhere with --out")
        if earlier and not overwrite:
            raise RunExistsError(
                f"{directory} already holds a run "
                f"({', '.join(earlier)}); continue it with --resume, "
                f"replace it with --overwrite, or write elsewhere "
                f"with --out")
        return None
    if earlier == [RUN_FILE]:
        raise ResumeMismatchError(
            f"Cannot resume {directory}: the run stopped before "
            f"its first epoch ended, so there is nothing to resume; "
            f"start it again with --overwrite, without --resume")
    trained = saved_epoch(os.path.join(directory, "resume")) + 1
    if description["config"]["epochs"] < trained:
        raise ResumeMismatchError(
            f"Cannot resume {directory}: it has trained "
            f"{trained} epochs already; resume with --epochs {trained} "
            f"or more (epochs counts from the start of the run)")
    saved = load_run_json(directory)
    if saved is None:
        return None  # a run of an earlier version: nothing to compare
    changed = _differences(saved["config"], description["config"])
    changed += _differences(saved["examples"],
                            description["examples"])
    # Runs of earlier versions recorded no pruning: they had none
    changed += _differences(
        {"keep_delays": saved.get("keep_delays")},
        {"keep_delays": description["keep_delays"]})
    if changed:
        raise ResumeMismatchError(
            f"Cannot resume {directory}: it was trained with "
            f"other settings ({'; '.join(changed)}). Resume with the "
            f"arguments of that run (see its {RUN_FILE}; the training "
            f"examples take those not given again from it); where no "
            f"argument gives a setting back, this version of "
            f"ml_genn_delays changed the set-up (docs/published.md): "
            f"continue with the version the run was started with, or "
            f"start afresh with --overwrite.")
    return saved


def remove_earlier(directory):
    """Before a fresh run (--overwrite) writes its run.json: remove the
    earlier run's files, whose resume/ would otherwise be resumed as
    this run's should this one stop in its first epoch, and whose
    model would be read with this run's run.json."""
    shutil.rmtree(os.path.join(directory, "resume"),
                  ignore_errors=True)
    for name in ("training.csv", "training.png", "raster.png"):
        if os.path.exists(os.path.join(directory, name)):
            os.unlink(os.path.join(directory, name))
    remove_checkpoints(directory, keep=None)
