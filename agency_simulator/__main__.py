"""Command line: `python -m agency_simulator --port P --db FILE --keys DIR --trust-root FILE`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import logging
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

from agency_simulator.agencies import DEFAULT_AGENCIES_FILE, ConfigError, Faults
from agency_simulator.app import Settings, Simulator


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m agency_simulator",
        description="Simulate the linkage agencies of the Zhixing gateway protocol. Each agency"
        " is served at http://HOST:PORT/agencies/{code}/v1/...",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, required=True, help="TCP port to listen on; 0 picks a free port"
    )
    parser.add_argument(
        "--db", type=Path, required=True, help="SQLite database file, created when missing"
    )
    parser.add_argument(
        "--keys",
        type=Path,
        action="append",
        default=[],
        help="folder of court public keys named <court code>.sm2 (SM2) or <court code>.pem"
        " (Ed25519), or a listing file of '<court code> <path>' lines; may be repeated. The"
        " environment variable AGENCY_SIMULATOR_COURT_KEYS adds more, separated like PATH",
    )
    parser.add_argument(
        "--trust-root",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="PEM file of the CA certificates that courts' seal certificates must chain to: the"
        " platform's root (`zhixing pki export-root FILE`) and any intermediate CA, as"
        " DIR/platform-ca.crt of `zhixing keys export DIR` contains them; may be repeated."
        " Without it, ecdsa-sha256 and rsa-sha256 signatures are rejected",
    )
    parser.add_argument(
        "--crl",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="CRL (DER or PEM, e.g. from `zhixing pki crl FILE`) of a trusted CA; may be"
        " repeated. A certificate on it is rejected, and once the CRL is past its next update"
        " every certificate of that CA is rejected until the file is replaced",
    )
    parser.add_argument(
        "--agencies",
        type=Path,
        default=DEFAULT_AGENCIES_FILE,
        help="agencies file (JSON); default: the demo agencies shipped with the package",
    )
    parser.add_argument(
        "--export-keys",
        type=Path,
        help="folder to write each agency's public key to, as <code>.pem",
    )
    parser.add_argument(
        "--callback-workers", type=int, default=4, help="concurrent callback senders (default 4)"
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        help='file to write {"url": ..., "agencies": N} to once the simulator accepts requests',
    )
    parser.add_argument(
        "--always-open",
        action="store_true",
        help="ignore service hours and planned outage windows of the agencies file",
    )
    parser.add_argument("--seed", type=int, help="seed of the fault and delay draws")
    parser.add_argument(
        "--exchange-dir",
        type=Path,
        help="folder of the batch-file exchange: request files are read from"
        " DIR/<agency code>/outbox and result files written to DIR/<agency code>/inbox",
    )
    parser.add_argument("--log-level", default="info", help="debug, info, warning or error")
    faults = parser.add_argument_group(
        "fault defaults",
        "override the agencies file for every agency; change at run time"
        " with POST /admin/agencies/{code}/faults",
    )
    for name in Faults.RATE_FIELDS:
        faults.add_argument("--" + name.replace("_", "-"), type=float, help=f"{name} from 0 to 1")
    faults.add_argument(
        "--timeout-s", type=float, help="seconds a simulated timeout holds a response (max 30)"
    )
    faults.add_argument(
        "--delay-ms",
        type=int,
        nargs=2,
        metavar=("MIN", "MAX"),
        help="answer delay drawn uniformly from MIN to MAX milliseconds",
    )
    return parser.parse_args(argv)


def fault_overrides(arguments: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for name in (*Faults.RATE_FIELDS, "timeout_s"):
        value = getattr(arguments, name)
        if value is not None:
            overrides[name] = value
    if arguments.delay_ms is not None:
        overrides["delay_ms"] = list(arguments.delay_ms)
    return overrides


def open_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    return listener


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    logging.basicConfig(
        level=arguments.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if arguments.callback_workers < 1:
        print("error: --callback-workers must be at least 1", file=sys.stderr)
        return 2
    try:
        listener = open_socket(arguments.host, arguments.port)
    except (OSError, ValueError) as error:
        print(
            f"error: cannot listen on {arguments.host}:{arguments.port}: {error}", file=sys.stderr
        )
        return 1
    port = listener.getsockname()[1]
    host = f"[{arguments.host}]" if ":" in arguments.host else arguments.host
    settings = Settings(
        database=arguments.db,
        court_key_sources=arguments.keys,
        trust_roots=arguments.trust_root,
        crls=arguments.crl,
        agencies_file=arguments.agencies,
        export_keys=arguments.export_keys,
        callback_workers=arguments.callback_workers,
        fault_overrides=fault_overrides(arguments),
        always_open=arguments.always_open,
        ready_file=arguments.ready_file,
        listen_url=f"http://{host}:{port}",
        seed=arguments.seed,
        exchange_dir=arguments.exchange_dir,
    )
    try:
        simulator = Simulator(settings)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"agency simulator listening on {settings.listen_url}", flush=True)
    config = uvicorn.Config(
        simulator,
        lifespan="on",
        log_level=arguments.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    # The objects made so far (population tables, keys, modules) live as long as the process.
    # Frozen, they are left out of the garbage collector's full scans.
    gc.collect()
    gc.freeze()
    asyncio.run(server.serve(sockets=[listener]))
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
