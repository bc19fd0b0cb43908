"""A clear KeyError for an environment variable the service was not given.

The host passes only the variables granted in [capabilities.env] allow; `os.environ["X"]` for
any other says so and names the capability, while `os.environ.get`, `in` and `os.getenv` keep
their usual answers (they catch KeyError).
"""

import os


class MissingVariable(KeyError):
    """KeyError whose text is the whole message (KeyError's own shows the repr of its argument)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"environment variable {name} is not set for this service; to pass it from the host, "
            "add it to [capabilities.env] allow in fabricks.toml"
        )
        self.key = name

    def __str__(self) -> str:
        return str(self.args[0])


# Shown as KeyError in tracebacks, as the lookup of a missing key is everywhere else.
MissingVariable.__name__ = MissingVariable.__qualname__ = "KeyError"
MissingVariable.__module__ = "builtins"


class _Environ(type(os.environ)):
    def __getitem__(self, key):
        try:
            return super().__getitem__(key)
        except KeyError:
            raise MissingVariable(key) from None


def install() -> None:
    """Gives os.environ (whatever object it is at run time) the clearer lookup."""
    if type(os.environ) is _Environ.__mro__[1]:
        os.environ.__class__ = _Environ
