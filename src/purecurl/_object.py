"""What every pycurl object (Curl, CurlMulti, CurlShare) shares.

pycurl's objects take arbitrary attributes, answer the constants of their kind as attributes,
say "trying to obtain a non-existing attribute" for anything else, and refuse pickling and
copying. One base class keeps those rules in one place.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn


class PycurlObject:
    """Base of the pycurl faces: arbitrary attributes, constants, no serialisation."""

    _CONSTANTS: ClassVar[dict[str, int]] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self._CONSTANTS[name]
        except KeyError:
            raise AttributeError(f"trying to obtain a non-existing attribute: {name}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        # Instances take arbitrary attributes, as pycurl's do.
        object.__setattr__(self, name, value)

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"{type(self).__name__} objects do not support serialization")

    def __copy__(self) -> NoReturn:
        raise TypeError(f"{type(self).__name__} objects do not support serialization")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__} objects do not support serialization")

    @classmethod
    def _export_constants(cls, constants: dict[str, int]) -> None:
        """Make `constants` readable on instances (not the class, as in pycurl)."""
        cls._CONSTANTS = constants
