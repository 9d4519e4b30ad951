# The seed's backend-flask X-Ray setup (week 2): `xray_recorder.configure(service='backend-flask',
# dynamic_naming=...)` and `XRayMiddleware(app, xray_recorder)`, sending to the daemon address
# in AWS_XRAY_DAEMON_ADDRESS (here waggle's UDP port), plus the custom subsegment and annotation
# the bootcamp adds to the home timeline.
#
# Test plumbing (not in the seed): sampling is off (every request traced) because the SDK's
# centralized sampling needs the daemon's TCP proxy, which waggle does not serve yet; the app
# listens on a free port written to $APP_PORT_FILE; `/api/e2e/boom` raises to produce a fault
# with a cause.
import os
import signal
import sys

from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
from flask import Flask, request

xray_url = os.getenv("AWS_XRAY_URL")
xray_recorder.configure(service="backend-flask", dynamic_naming=xray_url, sampling=False,
                        context_missing="LOG_ERROR")

app = Flask(__name__)
XRayMiddleware(app, xray_recorder)


@app.route("/api/activities/home", methods=["GET"])
def data_home():
    user = request.headers.get("X-Cruddur-User", "anonymous")
    segment = xray_recorder.current_segment()
    segment.put_annotation("user_id", user)
    with xray_recorder.in_subsegment("mock-data") as subsegment:
        results = [{"uuid": str(i), "handle": f"user-{i}"} for i in range(3)]
        subsegment.put_annotation("result_length", len(results))
        subsegment.put_metadata("results", results, "cruddur")
    return results, 200


@app.route("/api/e2e/boom", methods=["GET"])
def boom():
    raise ValueError("boom for the e2e test")


def main():
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    port_file = os.environ["APP_PORT_FILE"]
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_port))
    os.replace(port_file + ".tmp", port_file)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
