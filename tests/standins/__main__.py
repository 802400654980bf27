"""`PYTHONPATH=layers/pushgate .venv/bin/python -m tests.standins ntfy`: an ntfy stand-in set
up for managed channels (docs/managed-ntfy.md), to try them on `make run`; it prints the
command to start the stack with, and serves until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import threading

from tests.standins.ntfy import NtfyStandin


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.standins", description=__doc__)
    parser.add_argument("standin", choices=["ntfy"])
    parser.parse_args()
    with NtfyStandin(default_access="deny-all") as ntfy:
        admin, publisher = ntfy.set_up_for_pushgate()
        print(
            f"PUSHGATE_NTFY_URL={ntfy.url} PUSHGATE_NTFY_ADMIN_TOKEN={admin} "
            f"PUSHGATE_NTFY_PUBLISH_TOKEN={publisher} make run",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
