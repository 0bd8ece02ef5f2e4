"""The moto S3 server with atomic conditional writes, for the tests (`tests/run.sh` starts it).

    python moto_server_atomic.py -H 127.0.0.1 -p PORT

moto 5.2.5 handles `PUT` with `If-None-Match: *` as two steps without a lock: it looks the key
up, then stores the object. Its server is threaded, so under load two concurrent creates of one
key can both pass the look-up and both succeed: the concurrency test once saw one snapshot id
acknowledged to two writer processes (the second create overwrote the first commit). Real S3
makes the check and the write one atomic step, which is what the commit protocol relies on.

This launcher serves the same moto application, but runs every mutating request (PUT, POST,
DELETE) under one lock, so a conditional create is atomic with respect to every other write.
Reads stay concurrent.
"""

import argparse
import os
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

MUTATING = ("PUT", "POST", "DELETE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def atomic_writes(environ, start_response):
        if environ.get("REQUEST_METHOD") in MUTATING:
            with lock:
                # Build the whole response inside the critical section.
                return list(app(environ, start_response))
        return app(environ, start_response)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(0))
    run_simple(
        args.host,
        args.port,
        atomic_writes,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
