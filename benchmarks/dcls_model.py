"""DCLS-Delays (Hammouamri et al. 2023), the surrogate-gradient BPTT
baseline, as its SHD set-up builds it: per hidden layer a Dcls1d
convolution (one Gaussian-interpolated tap per synapse: its position is
the learnable delay) over time, then LIF neurons; an LI readout averaged
over time; cross-entropy; Adam. Simulated at the same dt and trial length
as the GeNN variants, so its BPTT memory grows with the trial length.

Needs ``pip install torch dcls`` (the benchmark extra).
"""
import torch
import torch.nn.functional as F
from DCLS.construct.modules import Dcls1d


class _Spike(torch.autograd.Function):
    """Heaviside forward, ATan surrogate backward (spikingjelly's)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        alpha = 5.0
        return grad * alpha / 2 / (1 + (torch.pi / 2 * alpha * x) ** 2)


class DclsSNN(torch.nn.Module):
    """``num_inputs`` -> ``layers`` x ``hidden`` LIF -> ``num_outputs`` LI.

    Parameters
    ----------
    max_delay : int
        Largest delay in steps (the convolution spans ``max_delay + 1``
        steps of input).
    tau_mem : float
        Membrane time constant in steps.
    """

    def __init__(self, num_inputs, hidden, layers, num_outputs, max_delay,
                 tau_mem=20.0):
        super().__init__()
        self.max_delay = max_delay
        self.decay = float(torch.exp(torch.tensor(-1.0 / tau_mem)))
        sizes = [num_inputs] + [hidden] * layers
        self.convs = torch.nn.ModuleList(
            Dcls1d(a, b, kernel_count=1, groups=1,
                   dilated_kernel_size=max_delay + 1, bias=False,
                   version="gauss") for a, b in zip(sizes, sizes[1:]))
        for conv in self.convs:
            # Delays start uniform over [0, max_delay], as DCLS-Delays does
            torch.nn.init.uniform_(conv.P, -max_delay // 2, max_delay // 2)
            conv.SIG.data.fill_(max_delay / 2.0)
            conv.SIG.requires_grad = False
        self.readout = torch.nn.Linear(hidden, num_outputs, bias=False)

    def _lif(self, current):
        """LIF over time; ``current`` is (batch, neurons, time)."""
        v = torch.zeros_like(current[..., 0])
        spikes = []
        for t in range(current.shape[-1]):
            v = self.decay * v + current[..., t]
            s = _Spike.apply(v - 1.0)
            v = v * (1.0 - s)       # reset to zero
            spikes.append(s)
        return torch.stack(spikes, dim=-1)

    def forward(self, x):
        """``x``: (batch, inputs, time) spikes; returns class scores."""
        for conv in self.convs:
            x = self._lif(conv(F.pad(x, (self.max_delay, 0))))
        current = self.readout(x.transpose(1, 2))      # (batch, time, out)
        v = torch.zeros_like(current[:, 0])
        total = torch.zeros_like(v)
        for t in range(current.shape[1]):
            v = self.decay * v + current[:, t]
            total = total + v
        return total / current.shape[1]


def dense_input(spike_trains, num_inputs, timesteps, device):
    """mlGeNN PreprocessedSpikes -> (batch, inputs, time) 0/1 tensor."""
    x = torch.zeros(len(spike_trains), num_inputs, timesteps)
    for b, spikes in enumerate(spike_trains):
        ends = spikes.end_spikes
        starts = [0, *ends[:-1]]
        for n, (s, e) in enumerate(zip(starts, ends)):
            steps = torch.as_tensor(spikes.spike_times[s:e]).long()
            x[b, n, steps.clamp(0, timesteps - 1)] = 1.0
    return x.to(device)
