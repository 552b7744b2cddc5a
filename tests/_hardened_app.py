"""``app`` with :func:`components.serving.harden` applied, for gunicorn in the tests.

Started as ``gunicorn -c gunicorn.conf.py tests._hardened_app:server`` until
``app.py`` calls ``harden(server)`` itself (then it is a no-op: ``harden`` is
idempotent, and ``tests/_serving_util.py`` switches to ``app:server``).
"""

import app as _app
from components.serving import harden

server = harden(_app.server, app=_app.app)
