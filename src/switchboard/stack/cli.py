"""``switchboard stack install|up|down|status|logs``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from switchboard.cli_errors import reports_errors
from switchboard.errors import ExitCode, StackError
from switchboard.stack.config import MAX_NODES, StackConfig
from switchboard.stack.install import ensure_installed
from switchboard.stack.stack import Stack, read_status, stacks_root, stop_detached

stack_app = typer.Typer(
    help="Run a local LiveKit stack (redis, livekit-server, livekit-sip) on loopback.",
    no_args_is_help=True,
)

NameOption = Annotated[str, typer.Option("--name", help="Name of the stack (several can run).")]


def _progress(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


@stack_app.command("install")
@reports_errors("stack")
def install(
    no_sip: Annotated[bool, typer.Option("--no-sip", help="Skip building livekit-sip.")] = False,
    no_jaeger: Annotated[
        bool, typer.Option("--no-jaeger", help="Skip building Jaeger (the trace receiver/UI).")
    ] = False,
) -> None:
    """Install Debian packages and build the pinned LiveKit binaries and Jaeger (idempotent,
    cached)."""
    ensure_installed(_progress, with_sip=not no_sip, with_jaeger=not no_jaeger)


@stack_app.command("up")
@reports_errors("stack")
def up(
    name: NameOption = "dev",
    webhook: Annotated[
        list[str] | None,
        typer.Option("--webhook", help="Webhook URL livekit-server posts to (repeatable)."),
    ] = None,
    empty_timeout: Annotated[int, typer.Option(help="Room empty_timeout in seconds.")] = 300,
    departure_timeout: Annotated[int, typer.Option(help="Room departure_timeout in seconds.")] = 20,
    api_key: Annotated[str, typer.Option(help="API key of the stack.")] = "devkey",
    api_secret: Annotated[
        str, typer.Option(help="API secret of the stack (at least 32 characters).")
    ] = "switchboard-dev-secret-0123456789abcdef",
    no_sip: Annotated[bool, typer.Option("--no-sip", help="Do not start livekit-sip.")] = False,
    nodes: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_NODES,
            help="livekit-server nodes on the one Redis (LiveKit's multi-node mode).",
        ),
    ] = 1,
) -> None:
    """Start a detached stack and print its LIVEKIT_* settings (stop it with 'stack down')."""
    if read_status(name) is not None:
        raise StackError(
            f"stack '{name}' is already up; run 'switchboard stack down --name {name}'"
        )
    config = StackConfig(
        api_key=api_key,
        api_secret=api_secret,
        webhook_urls=webhook or [],
        empty_timeout=empty_timeout,
        departure_timeout=departure_timeout,
        with_sip=not no_sip,
        nodes=nodes,
    )
    stack = Stack.create(name, config)
    stack.start(_progress, detach=True)
    _print_env(config)


@stack_app.command("down")
@reports_errors("stack")
def down(name: NameOption = "dev") -> None:
    """Stop every process a detached stack started."""
    stopped = stop_detached(name)
    print(f"stopped: {', '.join(stopped)}" if stopped else f"stack '{name}' was not up")


@stack_app.command("status")
@reports_errors("stack")
def status(name: NameOption = "dev") -> None:
    """Show whether each process of the stack is alive, and its connection settings."""
    state = read_status(name)
    if state is None:
        print(f"stack '{name}' is not up")
        raise typer.Exit(ExitCode.FAILED)
    for process, alive in state.alive.items():
        print(f"{process:16} {'up' if alive else 'DOWN'}")
    _print_env(state.config)
    if not all(state.alive.values()):
        raise typer.Exit(ExitCode.FAILED)


@stack_app.command("logs")
@reports_errors("stack")
def logs(
    name: NameOption = "dev",
    process: Annotated[
        str, typer.Argument(help="redis, livekit-server (livekit-server-N: node N) or livekit-sip.")
    ] = "livekit-server",
    lines: Annotated[int, typer.Option("-n", help="How many last lines.")] = 50,
) -> None:
    """Print the last log lines of one process of the stack."""
    path = stacks_root() / name / f"{process}.log"
    if not path.exists():
        raise StackError(f"no log for '{process}' in stack '{name}' ({path})")
    for line in path.read_text(errors="replace").splitlines()[-lines:]:
        print(line)


def _print_env(config: StackConfig) -> None:
    for key, value in config.env().items():
        print(f"export {key}={value}")
    if config.with_sip:
        print(f"# SIP: {config.sip_address} (udp/tcp)")
    if config.nodes > 1:
        for node in config.livekit_nodes:
            print(f"# node {node.number}: {node.url} (media on {node.ip}:{node.rtc_udp}/udp)")
