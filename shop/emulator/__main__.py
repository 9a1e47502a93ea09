"""`python -m shop.emulator --port 8765`: the Midtrans emulator alone on its own port.

Point a shop at it with MIDTRANS_API_BASE_URL=http://127.0.0.1:8765/_emulator/midtrans and
MIDTRANS_SNAP_BASE_URL=http://127.0.0.1:8765/_emulator/midtrans/snap/v1.
"""
import argparse
import logging
import socket
import sys

from werkzeug.serving import make_server

from shop.config import EMULATOR_PREFIX
from shop.emulator import make_emulator_app


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m shop.emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one")
    parser.add_argument("--server-key", help="server key to accept and sign with (default: the emulator's)")
    parser.add_argument("--notification-url", help="where to notify when a request has no X-Override-Notification")
    parser.add_argument("--db", help="the emulator's SQLite record (default: MIDTRANS_EMULATOR_DB)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Bind first so that --port 0 knows its port before the app (and its redirect URLs) exist.
    listener = socket.create_server((args.host, args.port))
    base_url = f"http://{args.host}:{listener.getsockname()[1]}"
    overrides = {"MIDTRANS_SERVER_KEY": args.server_key, "MIDTRANS_EMULATOR_DB": args.db,
                 "MIDTRANS_EMULATOR_NOTIFICATION_URL": args.notification_url, "BASE_URL": base_url}
    app = make_emulator_app({k: v for k, v in overrides.items() if v})
    server = make_server(args.host, args.port, app, threaded=True, fd=listener.fileno())
    print(f"Midtrans emulator on {base_url}{EMULATOR_PREFIX}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
