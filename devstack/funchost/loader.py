"""Load a Python v2 function app and index it through the `azure-functions` library itself."""

from __future__ import annotations

import enum
import functools
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func

from devstack.funchost.worker_rules import check_annotations

_DIRECTIONS = {0: "in", 1: "out", 2: "inout"}


@dataclass(frozen=True)
class BindingSpec:
    """One binding as function.json would state it (`settings` keys are camelCase)."""

    name: str
    type: str
    direction: str
    settings: Mapping[str, Any]
    _lowered: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lowered: dict[str, Any] = {}
        for k, v in self.settings.items():
            lowered.setdefault(k.lower(), v)  # the first spelling wins, as before
        object.__setattr__(self, "_lowered", lowered)

    def get(self, key: str, default: Any = None) -> Any:
        """A setting by name, case-insensitively (the host reads function.json that way)."""
        return self._lowered.get(key.lower(), default)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    func: Callable[..., Any]
    trigger: BindingSpec
    bindings: tuple[BindingSpec, ...]
    is_async: bool
    params: tuple[str, ...]

    @functools.cached_property
    def inputs(self) -> tuple[BindingSpec, ...]:
        return tuple(b for b in self.bindings if b.direction == "in" and b is not self.trigger)

    @functools.cached_property
    def outputs(self) -> tuple[BindingSpec, ...]:
        return tuple(b for b in self.bindings if b.direction != "in")


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value if isinstance(value.value, str) else value.name
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _binding(binding: Any) -> BindingSpec:
    settings: dict[str, Any] = _plain(binding.get_dict_repr())
    return BindingSpec(
        name=str(binding.name),
        type=str(binding.type),
        direction=_DIRECTIONS.get(int(binding.direction), "in"),
        settings=settings,
    )


def import_app_module(app: str, root: Path) -> ModuleType:
    """`app` is a module name importable from `root` (default `function_app`) or a .py path."""
    if app.endswith(".py") or "/" in app:
        path = Path(app).resolve()
        sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        return module
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(app)


def find_function_app(module: ModuleType) -> func.FunctionApp:
    apps = [v for v in vars(module).values() if isinstance(v, func.FunctionApp)]
    if len(apps) != 1:
        raise ValueError(
            f"{module.__name__} must define exactly one func.FunctionApp, found {len(apps)}"
        )
    return apps[0]


def index(app: func.FunctionApp) -> list[FunctionSpec]:
    specs = []
    for function in app.get_functions():
        trigger = function.get_trigger()
        if trigger is None:
            raise ValueError(f"function {function.get_function_name()} has no trigger")
        bindings = [_binding(b) for b in function.get_bindings()]
        trigger_spec = next(b for b in bindings if b.name == trigger.name)
        user_function = function.get_user_function()
        name = str(function.get_function_name())
        inputs = [
            (b.name, b.type, str(b.get("dataType") or "")) for b in bindings if b.direction == "in"
        ]
        check_annotations(name, user_function, inputs)
        specs.append(
            FunctionSpec(
                name=name,
                func=user_function,
                trigger=trigger_spec,
                bindings=tuple(bindings),
                is_async=inspect.iscoroutinefunction(user_function),
                params=tuple(inspect.signature(user_function).parameters),
            )
        )
    return specs


def load(app: str, root: Path) -> tuple[ModuleType, list[FunctionSpec]]:
    """The app's module and its functions (FunctionLoadError as the worker words it)."""
    module = import_app_module(app, root)
    return module, index(find_function_app(module))
