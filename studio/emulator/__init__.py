"""A faithful local AnyFast gateway: real HTTP on loopback, deterministic replies, fault injection.

Quick use::

    from studio.emulator import EmulatorConfig, EmulatorServer

    with EmulatorServer(EmulatorConfig(speed=20)) as emu:
        ...  # point a client at emu.base_url with emu.api_key

Per-request behaviour is steered with the ``X-Emulator`` header or an ``[[emulator: ...]]``
marker in the prompt; emulator-wide faults with :meth:`EmulatorServer.inject`.
"""

from studio.emulator.app import EmulatorApp, create_app
from studio.emulator.config import EmulatorConfig, FaultError, parse_fault
from studio.emulator.server import EmulatorServer, serve_forever
from studio.emulator.store import RequestRecord

__all__ = [
    "EmulatorApp",
    "EmulatorConfig",
    "EmulatorServer",
    "FaultError",
    "RequestRecord",
    "create_app",
    "parse_fault",
    "serve_forever",
]
