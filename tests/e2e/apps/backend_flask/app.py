# The seed's backend-flask/app.py, reduced to the home timeline, with its OpenTelemetry setup
# verbatim: configured only by the environment (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT,
# OTEL_EXPORTER_OTLP_HEADERS), exactly as the bootcamp's docker-compose does for Honeycomb.
#
# Test plumbing (not in the seed): it listens on a free port and writes it to $APP_PORT_FILE;
# SIGTERM exits through atexit, where the TracerProvider shuts down and the BatchSpanProcessor
# exports what it still holds; `/api/e2e/home-via-http` fetches the home timeline from this same
# app with `requests`, so RequestsInstrumentor's client span and context propagation are covered.
import os
import signal
import sys

from flask import Flask, request
import requests

from services.home_activities import *

# Honeycomb -------
from opentelemetry import trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

# Honeycomb -------
# Honeycomb - Initialize tracing and an exporter that can send data to Honeycomb
provider = TracerProvider()
processor = BatchSpanProcessor(OTLPSpanExporter())
provider.add_span_processor(processor)

# Honeycomb - Show spans in console standard output
simple_processor = SimpleSpanProcessor(ConsoleSpanExporter())
provider.add_span_processor(simple_processor)

trace.set_tracer_provider(provider)
tracer = trace.get_tracer(__name__)

# Create a flask and initialize automatic instrumentation with Flask
app = Flask(__name__)
FlaskInstrumentor().instrument_app(app)
RequestsInstrumentor().instrument()


@app.route("/api/activities/home", methods=["GET"])
def data_home():
    data = HomeActivities.run(cognito_user_id=request.headers.get("X-Cruddur-User"))
    return data, 200


@app.route("/api/e2e/home-via-http", methods=["GET"])
def data_home_via_http():
    r = requests.get(request.host_url.rstrip("/") + "/api/activities/home",
                     headers={"X-Cruddur-User": request.headers.get("X-Cruddur-User", "")},
                     timeout=10)
    return r.json(), r.status_code


def main():
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    port_file = os.environ["APP_PORT_FILE"]
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_port))
    os.replace(port_file + ".tmp", port_file)

    def on_term(signum, frame):
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
