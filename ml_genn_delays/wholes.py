"""What counts as a whole number in an argument (pure Python), shared by
every check of counts and steps so that all accept the same values and
say so alike."""
import math
import numbers


def is_whole(value, floats: bool = False) -> bool:
    """Whether ``value`` is a whole number: a Python or numpy integer,
    never a bool (True would pass as 1); with ``floats``, also a finite
    real equal to an integer (64.0, as ``round(ms / dt)`` gives in
    numpy)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return (floats and isinstance(value, numbers.Real)
            and math.isfinite(value) and value == int(value))


def require_whole(value, what: str, minimum: int = 1, meaning: str = ""):
    """ValueError unless ``value`` is an integer >= ``minimum``; the
    message names ``what`` and, if given, what the number counts."""
    if not is_whole(value) or value < minimum:
        meaning = f" ({meaning})" if meaning else ""
        raise ValueError(f"{what} must be a whole number >= {minimum}"
                         f"{meaning}, got {value!r}")
