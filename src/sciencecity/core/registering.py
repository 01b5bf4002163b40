"""The app side of the registries: an ``AppConfig`` that registers its parts at ``ready()``."""

from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig


class RegisteringAppConfig(AppConfig):
    """An app that contributes to the registries (permissions, navigation, indicator sources ...).

    ``registers`` names modules of the app, in order; at ``ready()`` each module's ``register()``
    (or ``register_all()``) is called. List ``permissions`` first: navigation predicates and
    indicator sources may name its actions.
    """

    registers: tuple[str, ...] = ()

    def ready(self) -> None:
        for module_name in self.registers:
            module = import_module(f"{self.name}.{module_name}")
            (getattr(module, "register", None) or module.register_all)()
