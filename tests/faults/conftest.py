"""The fault-injection tests: `--run-faults` opts into the full run (`make test-faults`)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-faults",
        action="store_true",
        default=False,
        help="run the full fault-injection run (10,000 notifications; make test-faults)",
    )


@pytest.fixture
def full_fault_run(request: pytest.FixtureRequest) -> None:
    """Skips the test unless pytest was given --run-faults."""
    # getoption's default: this conftest is not an initial one when pytest starts elsewhere.
    if not request.config.getoption("--run-faults", default=False):
        pytest.skip("the full fault-injection run needs --run-faults (make test-faults)")
