"""Neurons EventProp can train beyond mlGeNN's LIF, and their
learnable per-neuron parameters."""
from .adaptive_lif import AdaptiveLeakyIntegrateFire
from .learnable_param import LearnableParam
