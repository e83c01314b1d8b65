"""DelayRecorder: a connection's learnable delays, epoch by epoch."""
from ml_genn.callbacks import Callback

from .evaluation import get_delays
from .wholes import require_whole


class DelayRecorder(Callback):
    """Records the learnable delays of a connection at the end of
    training epochs, e.g. to plot how their distribution evolves
    (:func:`ml_genn_delays.plot_delay_history`).

    mlGeNN's ``ConnVarRecorder(conn, "d")`` records only synaptic delays
    (axonal and dendritic ones live in neuron variables), and per batch;
    this reads every kind through :func:`ml_genn_delays.get_delays`.

    Parameters
    ----------
    connection : Connection
        A connection with learnable delays.
    key : optional
        Key of the recording in the callback data ``train`` returns
        (default: the connection).
    every : int
        Record after every epoch whose number (counted from 1) is a
        multiple of this.

    Notes
    -----
    The recording is a list of ``(epoch, delays)``, the delays as
    :func:`get_delays` returns them (an array, or a dict by kind for
    mixed delays), in timesteps. Epochs are mlGeNN's numbers: training
    one epoch per call, pass ``start_epoch=epoch``.
    """

    def __init__(self, connection, key=None, every: int = 1):
        require_whole(every, "DelayRecorder: every",
                      meaning="epochs between recordings")
        self.connection = connection
        self.key = connection if key is None else key
        self.every = every
        self._recording = []

    def set_params(self, data, compiled_network, **kwargs):
        self._net = compiled_network
        get_delays(compiled_network, self.connection)  # refused here
        self._recording = data[self.key] = []

    def on_epoch_end(self, epoch, metrics):
        if (epoch + 1) % self.every == 0:
            self._recording.append(
                (epoch, get_delays(self._net, self.connection)))

    def get_data(self):
        return self.key, self._recording
