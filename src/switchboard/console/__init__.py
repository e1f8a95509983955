"""The web console: ``/phone`` (a softphone) and ``/console`` (the live view), for the service
to mount::

    app.routes.extend(console.routes(console.ConsoleDeps.from_settings(settings, store=...)))

See docs/console.md.
"""

from switchboard.console._deps import (
    OUTBOUND_TRUNK_ENV,
    ConsoleDeps,
    StoreSource,
    TokenGrant,
    TokenMaker,
    TokenRequest,
    rules_token_maker,
)
from switchboard.console._routes import routes

__all__ = [
    "OUTBOUND_TRUNK_ENV",
    "ConsoleDeps",
    "StoreSource",
    "TokenGrant",
    "TokenMaker",
    "TokenRequest",
    "routes",
    "rules_token_maker",
]
