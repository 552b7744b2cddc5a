"""RNN Phase Explorer: ``python app.py`` serves http://127.0.0.1:8050.

``PORT`` (and ``HOST``) in the environment override the address. Production
servers import ``server`` (the Flask app), e.g. ``gunicorn app:server``.
"""

import os

from dash import Dash

import theory
from components import callbacks, compute, layout, serving

app = Dash(__name__, title="RNN Phase Explorer", update_title=None,
           health_endpoint="healthz")
server = app.server
app.layout = layout.serve_layout
callbacks.register(app)
serving.harden(server, app=app)  # security headers, size limit, clean callback errors
theory.warmup()
compute.warm()

if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8050")),
            debug=False)
