"""A local stand-in for Facebook, Instagram, YouTube and X that speaks their contracts
(../shared/platforms/README.md) for the endpoints the console uses.

    python -m moderation.simulator --port 8765 [--rate 0.2] [--push-to http://127.0.0.1:8000]

`./dev run` starts it and points the *_API_BASE settings at it. Tests start it in-process
(`SimulatorServer(port=0).start()`) so every client is exercised over real HTTP. Faults
(throttling, token expiry, outages) are switched on through `World.set_fault` or
`POST /_sim/faults`; OAuth tokens expire, are refreshed at the simulator's token endpoints
(X's rotate) and can be revoked (`World.set_tokens` / `expire_token` / `revoke`, or
`POST /_sim/tokens`).
"""

from moderation.simulator.server import SimulatorServer
from moderation.simulator.world import World

__all__ = ["SimulatorServer", "World"]
