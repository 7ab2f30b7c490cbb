"""Agency simulator: the agency side of the Zhixing gateway protocol, for tests and demos.

One process simulates every linkage agency listed in its agencies file. Each agency is served
under `/agencies/{code}/` and keeps its own key pair, behaviour and synthetic population in the
simulator's SQLite database. The package speaks only the public protocol in `docs/protocol.md`
and imports nothing from the platform.
"""

PROTOCOL = "zhixing-gateway/1"
