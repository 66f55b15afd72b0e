"""PyInstaller runtime hook: statsforecast without its distributed (fugue) back ends.

statsforecast imports fugue → triad → pyarrow (about 100 MB of native libraries) only to offer
Spark/Dask/Ray execution. The desktop app forecasts pandas frames in-process, where
statsforecast takes its native path (``_is_native``: no fugue context engine). The frozen app
therefore ships small stand-ins for the three names statsforecast touches at import time, and
they fail loudly if anything ever asks for a distributed engine. `mangalm forecast` in the
frozen smoke test (build/build_app.py) and tests/unit/test_frozen_shims.py prove the path works.
"""

import sys
import types


def _module(name: str, **attrs: object) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    mod.__path__ = []  # a package, so submodules resolve from sys.modules
    sys.modules[name] = mod
    return mod


def _no_engine(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("distributed forecasting back ends are not part of the desktop app")


class _Dispatcher:
    """The part of triad.conditional_dispatcher statsforecast.core uses: a default + candidates."""

    def __init__(self, default):  # noqa: ANN001
        self._default = default
        self._candidates = []

    def candidate(self, matcher):  # noqa: ANN001, ANN201
        def register(func):  # noqa: ANN001, ANN202
            self._candidates.append((matcher, func))
            return func

        return register

    def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
        for matcher, func in self._candidates:
            if matcher(*args, **kwargs):
                return func(*args, **kwargs)
        return self._default(*args, **kwargs)


def install() -> None:
    if "fugue" in sys.modules or "triad" in sys.modules:
        return
    _module("fugue")
    _module("fugue.execution")
    _module(
        "fugue.execution.factory",
        make_execution_engine=_no_engine,
        try_get_context_execution_engine=lambda: None,
    )
    _module("triad", conditional_dispatcher=_Dispatcher)
    _module("statsforecast.distributed.fugue")


install()
