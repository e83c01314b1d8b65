"""Errors shared across modules (pure Python)."""


class ModelFileError(ValueError):
    """A model directory or file that cannot be loaded as asked.

    The message names the directory or file and what is wrong with it
    (missing, unreadable, another dt, shape or set of synapses); nothing
    has been changed when it is raised.
    """


class BackendUnavailableError(ValueError):
    """A GeNN backend was asked for (e.g. ``backend="cuda"``) that this
    GeNN was not built with; the message names the ones it has."""


class DataFileError(ValueError):
    """A data set file (SHD/SSC ``.h5``, Braille pickle) that is not what
    it should be; the message names the file (and sample) and why."""


class UncheckedModelWarning(UserWarning):
    """A model folder without ``manifest.json`` (mlGeNN's Checkpoint
    callback and the released models write none) was loaded: its dt,
    delay kinds and synapses could not be checked against the network."""


class NoGradientWarning(UserWarning):
    """An epoch's optimiser steps left a connection's weights exactly as
    they were: no gradient reached them. EventProp's gradients flow
    through spikes only, so a layer that never fires stops all learning
    into it and upstream of it, and the run stays at chance."""


#: Errors whose message says what to do: the scripts print them as one
#: line (a traceback would only hide it)
ONE_LINE_ERRORS = (FileNotFoundError, DataFileError, ModelFileError,
                   BackendUnavailableError)
