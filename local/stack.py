"""`LocalStack`: the whole SAM bundle on one machine — emulator, functions, HTTP API, SQS
pollers and the development issuer — as one object for `python -m local` and for tests."""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3

from local.apigw import Router
from local.cfn import REGION, Resolver, load_template
from local.emulator import EmulatorServer
from local.errors import LocalStackError, PortInUseError
from local.issuer import DEFAULT_TTL, DevIssuer, DevIssuers
from local.oidc import DEFAULT_CLIENT_ID, AuthorizationServer
from local.pollers import SqsPoller
from local.provision import Provisioner, ResourceRegistry
from local.runtime import FunctionPool
from local.server import LocalApi, LocalHttpServer
from local.template import (
    FunctionSpec,
    parameters_from_environment,
    read_environment,
    read_functions,
    read_http_routes,
    read_sqs_sources,
)
from local.xray import TraceSink

__all__ = ["DEFAULT_TEMPLATE", "LocalStack"]

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# The VapidSubject parameter has no default (deployers must name a real contact); locally it
# is this, a value that passes pushgate's check and the Web Push stand-in's.
LOCAL_VAPID_SUBJECT = "mailto:local-stack@pushgate.dev"
# Variables the stack sets itself: the parent's values never leak into the functions.
_OWNED = ("PUSHGATE_LOCAL", "PUSHGATE_ALLOW_PRIVATE_URLS", "PUSHGATE_TRUSTED_ISSUERS")
# Process variables a worker inherits so the interpreter and its libraries work at all.
_INHERITED = ("PATH", "LD_LIBRARY_PATH", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")


def _bind(host: str, port: int, setting: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(port, setting) from None
        raise LocalStackError(
            f"cannot listen on {host}:{port} ({exc.strerror}); set {setting}=... to use another"
        ) from None
    return sock


class LocalStack:
    """Runs `template.yaml` locally. Port 0 picks a free port. Use as a context manager, or
    call `start()` and `stop()`.

    `env` is added to every function's environment last (it wins); `parameters` override
    template parameter defaults and the values the parent's environment gives them (a
    variable such as `PUSHGATE_WEBPUSH_ALLOWED_HOSTS: !Ref WebPushAllowedHosts` gives its
    parameter); `allow_private_urls` sets PUSHGATE_ALLOW_PRIVATE_URLS.
    Function output goes to `log_dir/<LogicalId>.log` (default `.local/logs/` beside the
    template), or to this process's stderr when `verbose` (default: PUSHGATE_LOCAL_VERBOSE)."""

    def __init__(
        self,
        *,
        port: int = 0,
        aws_port: int = 0,
        host: str = "127.0.0.1",
        template_path: Path | str | None = None,
        parameters: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        allow_private_urls: bool = True,
        verbose: bool | None = None,
        log_dir: Path | str | None = None,
        max_workers: int = 4,
        pollers_per_source: int = 2,
        stack_name: str = "pushgate-local",
    ) -> None:
        self.template_path = Path(template_path or DEFAULT_TEMPLATE).resolve()
        self.log_dir = Path(log_dir) if log_dir else self.template_path.parent / ".local" / "logs"
        self._port, self._aws_port, self._host = port, aws_port, host
        self._parameters = dict(parameters or {})
        self._env = dict(env or {})
        self._allow_private_urls = allow_private_urls
        if verbose is None:
            verbose = os.environ.get("PUSHGATE_LOCAL_VERBOSE", "") not in ("", "0")
        self._verbose = verbose
        self._max_workers = max_workers
        self._pollers_per_source = pollers_per_source
        self._stack_name = stack_name
        self._lock = threading.Lock()
        self._started = False
        self._http: LocalHttpServer | None = None
        self._http_thread: threading.Thread | None = None
        self._emulator: EmulatorServer | None = None
        self._xray: TraceSink | None = None
        self._pools: dict[str, FunctionPool] = {}
        self._pollers: list[SqsPoller] = []
        self._sockets: list[socket.socket] = []
        self._registry = ResourceRegistry()
        self._resolver: Resolver | None = None
        self._global_variables: dict[str, str] = {}
        self._passthrough: dict[str, str] = {}
        self.functions: dict[str, FunctionSpec] = {}
        self.api_url = self.aws_url = self.issuer_url = ""
        self.issuers: DevIssuers | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalStack:
        """Binds both ports, starts the emulator, creates the template's resources, then
        serves the API and starts the pollers. Raises PortInUseError or TemplateError."""
        with self._lock:
            if self._started:
                return self
            self._started = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        http_socket = _bind(self._host, self._port, "PORT")
        self._sockets.append(http_socket)
        aws_socket = _bind(self._host, self._aws_port, "AWS_PORT")
        self._sockets.append(aws_socket)
        self.api_url = "http://{}:{}".format(*http_socket.getsockname()[:2])
        self.issuer_url = f"{self.api_url}/_local"
        self.issuers = DevIssuers(self.issuer_url)
        self._emulator = EmulatorServer(aws_socket)
        try:
            self._emulator.start()
        finally:
            self.aws_url = self._emulator.url
        self._xray = TraceSink(self._host).start()
        self._passthrough = {
            key: value
            for key, value in os.environ.items()
            if key.startswith("PUSHGATE_") and key not in _OWNED
        }

        template = load_template(self.template_path)
        # A variable the template sets from a parameter is given through that parameter, so
        # every variable it feeds agrees; explicit parameters win.
        parameters = {
            **parameters_from_environment(template, os.environ, excluded=_OWNED),
            **self._parameters,
        }
        declared = template.get("Parameters") or {}
        if "TrustedIssuers" in declared:
            parameters.setdefault("TrustedIssuers", self.issuers.trusted_issuers)
        if "VapidSubject" in declared:
            parameters.setdefault("VapidSubject", LOCAL_VAPID_SUBJECT)
        if "ConsoleIssuer" in declared:
            parameters.setdefault("ConsoleIssuer", self.issuer_url)
        client_id = parameters.get("ConsoleClientId") or (
            declared.get("ConsoleClientId", {}).get("Default") or DEFAULT_CLIENT_ID
        )
        provisioner = Provisioner(
            template,
            client=self.client,
            stack_name=self._stack_name,
            parameters=parameters,
            api_url=self.api_url,
        )
        resources = provisioner.run()
        self._registry, self._resolver = provisioner.registry, provisioner.resolver
        global_function = (template.get("Globals") or {}).get("Function") or {}
        self._global_variables = read_environment(global_function, self._resolver)
        self.functions = read_functions(
            resources, self._resolver, base_dir=self.template_path.parent
        )
        for logical_id, spec in self.functions.items():
            self._pools[logical_id] = FunctionPool(
                spec,
                self._worker_env(spec),
                max_workers=self._max_workers,
                log_path=None if self._verbose else self.log_dir / f"{logical_id}.log",
            )

        routes = [
            route for route in read_http_routes(resources) if route.function_id in self._pools
        ]
        api_ids = [
            resource.ref
            for resource in self._registry.all().values()
            if resource.type == "AWS::Serverless::HttpApi"
        ]
        api = LocalApi(
            router=Router(routes),
            invoke=self.invoke,
            issuers=self.issuers,
            api_id=str(api_ids[0]) if api_ids else "local",
            sign_in=AuthorizationServer(self.issuers.default, client_id=client_id),
        )
        self._http = LocalHttpServer(http_socket, api)
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._http_thread.start()

        for source in read_sqs_sources(resources, self._resolver):
            if source.function_id not in self._pools:
                continue
            concurrency = self._pollers_per_source
            if source.maximum_concurrency:
                concurrency = min(concurrency, source.maximum_concurrency)
            poller = SqsPoller(
                source,
                queue_url=self._queue_url(source.queue_arn),
                invoke=lambda event, function_id=source.function_id: self.invoke(
                    function_id, event
                ),
                client=lambda: self.client("sqs"),
                region=REGION,
                concurrency=concurrency,
            )
            poller.start()
            self._pollers.append(poller)
        logger.info("local stack up: api %s, aws %s", self.api_url, self.aws_url)

    def stop(self) -> None:
        """Stops pollers, the API, every worker and the emulator. Safe to call twice."""
        pollers, self._pollers = self._pollers, []
        for poller in pollers:
            poller.request_stop()
        for poller in pollers:
            poller.stop()
        if self._http is not None:
            # shutdown() waits for serve_forever(), so only when that loop is running.
            if self._http_thread is not None and self._http_thread.is_alive():
                self._http.shutdown()
            self._http.server_close()
            self._http = None
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.close()
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None
        if self._xray is not None:
            self._xray.stop()
            self._xray = None
        sockets, self._sockets = self._sockets, []
        for sock in sockets:  # those a failed start left behind; closing twice is harmless
            sock.close()

    # ------------------------------------------------------------------ environment

    def environment(self, function_id: str | None = None) -> dict[str, str]:
        """The configuration a function sees, in increasing precedence: its template variables
        (with no function, the Globals' ones; a variable set from a parameter follows the
        parent's value of it, through that parameter); the parent's PUSHGATE_* variables the
        template does not set; the local overrides; then `env`."""
        variables = self.functions[function_id].variables if function_id else self._global_variables
        environment = dict(variables)
        for key, value in self._passthrough.items():
            environment.setdefault(key, value)
        environment.update(
            {
                "AWS_ENDPOINT_URL": self.aws_url,
                **CREDENTIALS,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                # Traced as in Lambda (Tracer on, the same patching, every invocation
                # sampled), so tests and benches pay the CPU that Lambda will; the segments go
                # to the stack's stand-in daemon (`traces()`).
                **self._xray_variables(),
                "PUSHGATE_LOCAL": "1",
                "PUSHGATE_ALLOW_PRIVATE_URLS": "1" if self._allow_private_urls else "0",
                "PUSHGATE_TRUSTED_ISSUERS": self.issuers.trusted_issuers if self.issuers else "[]",
            }
        )
        environment.update(self._env)
        return environment

    def _xray_variables(self) -> dict[str, str]:
        if self._xray is None:
            return {}
        host, _, port = self._xray.address.rpartition(":")
        return {
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": self._xray.address,
            "_AWS_XRAY_DAEMON_ADDRESS": host,
            "_AWS_XRAY_DAEMON_PORT": port,
        }

    def _worker_env(self, spec: FunctionSpec) -> dict[str, str]:
        """What a Lambda execution environment adds around the configuration."""
        runtime = {key: os.environ[key] for key in _INHERITED if key in os.environ}
        runtime.update(
            {
                "LANG": "C.UTF-8",
                "TZ": ":UTC",
                "LAMBDA_TASK_ROOT": str(spec.code_dir),
                "_HANDLER": spec.handler,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            }
        )
        return {**runtime, **self.environment(spec.logical_id)}

    # ------------------------------------------------------------------ use

    def invoke(self, function_id: str, event: Any, request_id: str | None = None) -> Any:
        """Invokes a function synchronously (like `sam local invoke`); raises an
        InvocationError subclass when the invocation fails."""
        pool = self._pools.get(function_id)
        if pool is None:
            raise LocalStackError(f"no local function {function_id!r}")
        return pool.invoke(event, request_id or str(uuid.uuid4()))

    def mint_token(
        self,
        sub: str,
        scope: str | Sequence[str] | None = None,
        aud: str | Sequence[str] | None = None,
        ttl: int = DEFAULT_TTL,
        *,
        extra_claims: Mapping[str, Any] | None = None,
        issuer: str | None = None,
    ) -> str:
        """An access token from a development issuer (the default one, or `issuer="second"`),
        as `POST /_local/token` returns."""
        return self.dev_issuer(issuer).mint(
            sub, scope=scope, aud=aud, ttl=ttl, extra_claims=extra_claims
        )

    @property
    def issuer(self) -> DevIssuer | None:
        """The default development issuer (trusted for every role)."""
        return self.issuers.default if self.issuers else None

    def dev_issuer(self, name: str | None = None) -> DevIssuer:
        """A development issuer by the name a token request gives it."""
        if self.issuers is None:
            raise LocalStackError("the stack is not started")
        return self.issuers.named(name)

    def client(self, service_name: str) -> Any:
        """A boto3 client for the emulator (its own session: safe to use from any thread)."""
        return boto3.session.Session().client(
            service_name,
            endpoint_url=self.aws_url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    @property
    def resources(self) -> dict[str, Any]:
        """Logical id → what `Ref` gives: table name, queue URL, key id, function name..."""
        return {logical_id: item.ref for logical_id, item in self._registry.all().items()}

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """`Fn::GetAtt` for a resource, e.g. `get_att("DeliveryQueue", "Arn")`."""
        return self._registry.get_att(logical_id, attribute)

    def traces(self) -> list[dict[str, Any]]:
        """The X-Ray segment documents the functions sent, oldest first (the latest 10,000)."""
        return self._xray.documents() if self._xray is not None else []

    def emulator_stats(self) -> dict[str, Any]:
        """Calls and busy seconds per AWS operation the emulator served (`EmulatorStats`)."""
        return self._emulator.stats.snapshot() if self._emulator is not None else {}

    def log_path(self, function_id: str) -> Path:
        return self.log_dir / f"{function_id}.log"

    def _queue_url(self, queue_arn: str) -> str:
        for resource in self._registry.all().values():
            if resource.attributes.get("Arn") == queue_arn and "QueueUrl" in resource.attributes:
                return str(resource.attributes["QueueUrl"])
        # A queue outside the template (created in the emulator by hand or by a test).
        *_, account, name = queue_arn.split(":")
        return self.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)[
            "QueueUrl"
        ]
