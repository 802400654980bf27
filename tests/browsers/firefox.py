"""Firefox ESR, headless, with a fresh profile, driven over Marionette: started with a bounded
wait, and its whole process group ended on exit whatever happened."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

FIREFOX = os.environ.get("PUSHGATE_FIREFOX", "/usr/bin/firefox-esr")
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
SCRIPT_TIMEOUT_MS = 30_000

# What every automated run needs: no first-run pages, updates, telemetry or remote settings
# (MOZ_DISABLE_NONLOCAL_CONNECTIONS refuses any connection off 127.0.0.1 anyway).
QUIET_PREFS: Mapping[str, Any] = {
    "app.update.disabledForTesting": True,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "extensions.update.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
}


def push_prefs(server_url: str) -> dict[str, Any]:
    """Firefox's own push client against a local push service, notifications allowed and
    drawn by Firefox itself (not the desktop's notification daemon, which a CI lacks)."""
    return {
        "dom.push.serverURL": server_url,
        "dom.push.testing.allowInsecureServerURL": True,
        "dom.push.connection.enabled": True,
        "dom.push.enabled": True,
        "permissions.default.desktop-notification": 1,
        "alerts.useSystemBackend": False,
        # Notification actions are behind a pref in this ESR (Nightly-only by default).
        "dom.webnotifications.actions.enabled": True,
    }


def available() -> bool:
    return shutil.which(FIREFOX) is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Firefox:
    """`with Firefox(prefs) as firefox: firefox.marionette.navigate(url)`.

    The browser log (stdout and stderr) is at `log_path` for a failed test's post-mortem.
    """

    def __init__(self, prefs: Mapping[str, Any], *, log_dir: Path | None = None) -> None:
        self._prefs = {**QUIET_PREFS, **prefs}
        self._log_dir = log_dir
        self._profile: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self.marionette: Any = None

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    def _start(self) -> None:
        from marionette_driver.marionette import Marionette

        self._profile = Path(tempfile.mkdtemp(prefix="pushgate-firefox-"))
        port = _free_port()
        prefs = {**self._prefs, "marionette.port": port}
        (self._profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())
        )
        log_dir = self._log_dir or Path(tempfile.gettempdir())
        self.log_path = log_dir / f"{self._profile.name}.log"
        env = {**os.environ, "MOZ_DISABLE_NONLOCAL_CONNECTIONS": "1", "MOZ_HEADLESS": "1"}
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    FIREFOX,
                    "--headless",
                    "--marionette",
                    "--remote-allow-system-access",
                    "--no-remote",
                    "--profile",
                    str(self._profile),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, ended as one in _stop
            )
        self.marionette = Marionette(
            host="127.0.0.1", port=port, startup_timeout=START_TIMEOUT_SECONDS
        )
        self.marionette.start_session(timeout=START_TIMEOUT_SECONDS)
        self.marionette.timeout.script = SCRIPT_TIMEOUT_MS / 1000

    def _stop(self) -> None:
        if self.marionette is not None and self.marionette.session is not None:
            with contextlib.suppress(Exception):
                self.marionette.delete_session()
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT_SECONDS)
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)

    def wait_for(self, script: str, *args: Any, timeout: float = 30) -> Any:
        """Evaluate `script` (a function body returning a value or a promise, in the page's
        content sandbox) until it returns something truthy; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.run(script, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still falsy after {timeout} s: {script[:80]}")
            time.sleep(0.2)

    def run(self, script: str, *args: Any) -> Any:
        """Run an async function body in the content sandbox and return what it resolves to."""
        wrapped = (
            "const args = Array.from(arguments); const resolve = args.pop();"
            f"(async () => {{ {script} }})().then(resolve, e => resolve({{error: String(e)}}));"
        )
        return self.marionette.execute_async_script(wrapped, script_args=args)

    def notifications(self) -> list[dict[str, Any]]:
        """What `registration.getNotifications()` gives the page: the notifications the
        service worker showed and nobody closed, as plain objects."""
        value = self.run(
            """
            const registration = await navigator.serviceWorker.ready;
            const shown = await registration.getNotifications();
            return JSON.stringify(shown.map((n) => ({
              title: n.title, body: n.body, tag: n.tag, icon: n.icon, data: n.data,
              actions: n.actions, requireInteraction: n.requireInteraction,
            })));
            """
        )
        if isinstance(value, dict):
            raise AssertionError(f"getNotifications failed: {value}")
        return json.loads(value)

    def wait_for_notification(self, tag: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            shown = [n for n in self.notifications() if n["tag"] == tag]
            if shown:
                return shown[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no notification tagged {tag!r} after {timeout} s")
            time.sleep(0.2)

    def click_notification(self, title: str, action: str | None = None) -> None:
        """Click the notification titled `title` as the user would: on its body, or on one
        of its action buttons. Firefox's own (non-system) alert draws no buttons, so this
        calls the alert's listener with the nsIAlertAction a system backend hands it for a
        button (NotificationParent then fires `notificationclick` with that action)."""
        script = """
            const [title, action] = arguments;
            for (const alert of Services.wm.getEnumerator("alert:alert")) {
              const args = alert.arguments;
              if (!args || String(args[1]) !== title) continue;
              const listener = args[10].QueryInterface(Ci.nsIObserver);
              const subject = action === null ? null : {
                action, title: action, QueryInterface: ChromeUtils.generateQI(["nsIAlertAction"]),
              };
              listener.observe(subject, "alertclickcallback", String(args[4]));
              return true;
            }
            return false;
        """
        with self.marionette.using_context(self.marionette.CONTEXT_CHROME):
            clicked = self.marionette.execute_script(script, script_args=(title, action))
        if not clicked:
            raise AssertionError(f"no alert titled {title!r} is showing")
