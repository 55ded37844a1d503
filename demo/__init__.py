"""The end-to-end demo (``./dev demo``, ``python -m demo``) and its simulated radio.

Not part of the distribution: the wheel ships ``shared``, ``edge_agent`` and ``collector``
only. ``demo.radio`` is also the radio chain of the accuracy benchmark (``bench/accuracy``).
"""
