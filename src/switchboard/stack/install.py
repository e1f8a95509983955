"""Idempotent installation of everything the local stack runs: Debian packages and Go builds.

Binaries are cached outside the repository (``$SWITCHBOARD_CACHE`` or ``~/.cache/switchboard``)
and rebuilt only when the pinned version changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from switchboard.errors import StackError
from switchboard.stack.versions import (
    JAEGER,
    LIVEKIT_SERVER,
    LIVEKIT_SIP,
    GoBinary,
    debian_packages,
)

Progress = Callable[[str], None]


def cache_dir() -> Path:
    """Where built binaries and stack state live; never inside the repository."""
    root = os.environ.get("SWITCHBOARD_CACHE") or Path.home() / ".cache" / "switchboard"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def binary_path(binary: GoBinary) -> Path:
    return cache_dir() / "bin" / binary.file_name


def missing_debian_packages(packages: Sequence[str]) -> list[str]:
    missing = []
    for package in packages:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def ensure_debian_packages(progress: Progress, packages: Sequence[str] | None = None) -> None:
    """Install missing Debian packages with apt-get (root), or name them and stop."""
    wanted = list(packages) if packages is not None else debian_packages()
    missing = missing_debian_packages(wanted)
    if not missing:
        progress(f"debian packages: {len(wanted)} present")
        return
    if os.geteuid() != 0:
        raise StackError(
            f"missing Debian packages: {' '.join(missing)}; "
            f"install them with: sudo apt-get install -y {' '.join(missing)}"
        )
    progress(f"debian packages: installing {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-q"], "apt-get update", env=env)
    _run(["apt-get", "install", "-y", "-q", *missing], "apt-get install", env=env)


def ensure_go_binary(binary: GoBinary, progress: Progress) -> Path:
    """Build ``binary`` from the Go module proxy unless the pinned version is cached."""
    target = binary_path(binary)
    if target.exists():
        progress(f"{binary.name} {binary.version}: cached at {target}")
        return target
    if shutil.which("go") is None:
        raise StackError(
            f"cannot build {binary.name}: the Go toolchain ('go') is not on PATH; install Go 1.26+"
        )
    progress(f"{binary.name} {binary.version}: building with Go (first time only, a few minutes)")
    work = cache_dir() / "build" / binary.file_name
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GOFLAGS": "-mod=mod",
        "CGO_ENABLED": "1" if binary.cgo else "0",
    }
    upstream_mod = _download_go_mod(binary, work, env)
    (work / "go.mod").write_text(_wrapper_go_mod(binary, upstream_mod))
    _run(["go", "get", f"{binary.module}@{binary.version}"], f"go get {binary.name}", work, env)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    _run(
        ["go", "build", "-trimpath", "-o", str(partial), binary.package],
        f"go build {binary.name}",
        work,
        env,
    )
    partial.rename(target)
    progress(f"{binary.name} {binary.version}: built {target}")
    return target


def ensure_installed(
    progress: Progress, *, with_sip: bool = True, with_jaeger: bool = False
) -> dict[str, Path]:
    """Everything the stack needs, in order; returns the binaries' paths by name.

    Jaeger (the OTLP receiver and trace UI of ``make dev`` and the trace tests) builds last,
    for ``switchboard stack install`` only: the stack runs without it.
    """
    ensure_debian_packages(progress)
    binaries = {LIVEKIT_SERVER.name: ensure_go_binary(LIVEKIT_SERVER, progress)}
    if with_sip:
        binaries[LIVEKIT_SIP.name] = ensure_go_binary(LIVEKIT_SIP, progress)
    if with_jaeger:
        binaries[JAEGER.name] = ensure_go_binary(JAEGER, progress)
    return binaries


def _download_go_mod(binary: GoBinary, work: Path, env: dict[str, str]) -> str:
    (work / "go.mod").write_text("module switchboard.local/build\n\ngo 1.26\n")
    out = _run(
        ["go", "mod", "download", "-json", f"{binary.module}@{binary.version}"],
        f"go mod download {binary.name}",
        work,
        env,
    )
    info = json.loads(out)
    return Path(info["GoMod"]).read_text()


def _wrapper_go_mod(binary: GoBinary, upstream_mod: str) -> str:
    """A module requiring the binary's module, repeating its ``replace`` directives.

    ``replace`` lines only apply in the main module, so building another module's command
    without them would silently link different (unpatched) dependencies.
    """
    lines = [f"module switchboard.local/{binary.name}-build", "", "go 1.26", ""]
    lines.append(f"require {binary.module} {binary.version}")
    lines.extend(_replace_directives(upstream_mod))
    return "\n".join(lines) + "\n"


def _replace_directives(go_mod: str) -> list[str]:
    directives: list[str] = []
    in_block = False
    for raw in go_mod.splitlines():
        line = raw.split("//", 1)[0].strip()
        if in_block:
            if line == ")":
                in_block = False
            elif line:
                directives.append(f"replace {line}")
        elif line.startswith("replace ("):
            in_block = True
        elif line.startswith("replace "):
            directives.append(line)
    local = [d for d in directives if "=> ." in d or "=> /" in d]
    if local:
        raise StackError(f"cannot build from the module proxy: local replace directives {local}")
    return directives


def _run(
    cmd: list[str],
    step: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).splitlines()[-20:])
        raise StackError(f"step '{step}' failed (exit {result.returncode}):\n{tail}")
    return result.stdout
