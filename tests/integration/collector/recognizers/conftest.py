"""The recognizers' stand-in, serving four reference recordings on a real 127.0.0.1 socket."""

from tests.fixtures.standin import ISRC_IN, OFF_CATALOG, standin, standin_refs  # noqa: F401  (fixtures)
