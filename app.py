"""RNN Phase Explorer: ``python app.py`` serves http://127.0.0.1:8050.

``PORT`` (and ``HOST``) in the environment override the address. ``python app.py``
prints what it prepares at once, serves the page while the calculators compile (a
first start on a machine) and fills the panels in as they become ready
(:mod:`components.startup`). Production servers import ``server`` (the Flask app),
e.g. ``gunicorn app:server``: importing loads every calculator before serving.
"""

import os

from components import startup

HOST, PORT = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8050"))
URL = f"http://{HOST}:{PORT}/"
if __name__ == "__main__":
    startup.announce(URL)  # before the imports below: seconds on a cold disk

from dash import Dash  # noqa: E402

from components import callbacks, serving  # noqa: E402

app = Dash(__name__, title="RNN Phase Explorer", update_title=None,
           health_endpoint="healthz")
server = app.server
app.layout = startup.page
callbacks.register(app)
serving.harden(server, app=app)  # security headers, size limit, clean callback errors

if __name__ == "__main__":
    startup.start(URL, server)
    app.run(host=HOST, port=PORT, debug=False)
else:
    startup.warm_blocking()
