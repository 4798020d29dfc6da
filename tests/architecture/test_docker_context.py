"""What goes into the Docker build context (.dockerignore, read with Docker's own matching rules) and how
the image is built: secrets, local state, docs and tests stay out; everything the Dockerfile copies is
in; the base is the one pinned ARG; every package, the build backend too, comes from a lock file with
hashes. The image itself is built and run by .ci/image-check.sh (podman; not part of CI's run)."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _pattern(text: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regular expression: Go's filepath.Match (``*`` and ``?`` stay inside
    one path segment, ``[...]`` classes) plus ``**`` for any number of folders, relative to the top."""
    text = text.strip("/")
    out, i = "", 0
    while i < len(text):
        if text.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif text.startswith("**", i):
            out, i = out + ".*", i + 2
        elif text[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif text[i] == "?":
            out, i = out + "[^/]", i + 1
        elif text[i] == "[":
            end = text.index("]", i)
            out, i = out + "[" + text[i + 1 : end].replace("!", "^", 1) + "]", end + 1
        else:
            out, i = out + re.escape(text[i]), i + 1
    return re.compile(out)


def _rules() -> list[tuple[bool, re.Pattern[str]]]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = []
    for line in (line.strip() for line in lines):
        if line and not line.startswith("#"):
            keep = line.startswith("!")
            rules.append((keep, _pattern(line.removeprefix("!"))))
    return rules


RULES = _rules()


def ignored(path: str) -> bool:
    """Docker's rule: the last pattern that matches the path, or one of its folders, decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    out = False
    for keep, pattern in RULES:
        if any(pattern.fullmatch(c) for c in candidates):
            out = not keep
    return out


def test_the_matcher_reads_patterns_as_docker_does():
    assert _pattern("*.env").fullmatch("prod.env") and not _pattern("*.env").fullmatch("api/prod.env")
    assert _pattern("**/.env").fullmatch(".env") and _pattern("**/.env").fullmatch("api/console/.env")
    assert _pattern("**/__pycache__").fullmatch("api/__pycache__") and not _pattern("docs").fullmatch("docsx")


@pytest.mark.parametrize(
    "path",
    [
        ".env", ".env.production", "prod.env", "api/.env", "scheduler/store/.env.local", "deploy/staging.env",
        "docs/SERVICE.md", "docs/screenshots/console.png", "tests/conftest.py", "tests/api/test_app.py",
        ".venv/bin/python", "var/rota.db", "var/demo-credentials.json", "rota.db", "rota.db-wal",
        "api/rota.db", "scheduler/__pycache__/settings.cpython-311.pyc", ".git/config", ".ci/run",
        "benchmarks/bench.py", "fixtures/small.json", "fixtures/make_fixtures.py", "requirements-dev.lock",
        "build/lib/api/app.py", ".pytest_cache/v/cache/lastfailed", ".hypothesis/examples/x",
    ],
)
def test_secrets_local_state_docs_and_tests_stay_out_of_the_context(path):
    assert ignored(path), f"{path} would be sent to the builder"


def _copied_sources() -> list[str]:
    """The context paths the Dockerfile copies (COPY without --from), as written."""
    sources = []
    for line in re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE, re.M):
        sources += line.split()[:-1]
    return sources


def _tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [name for name in out.stdout.splitlines() if (ROOT / name).is_file()]


def test_everything_the_dockerfile_copies_is_in_the_context():
    sources = _copied_sources()
    assert {"requirements.lock", "requirements-build.lock", "pyproject.toml", "scheduler", "alembic",
            "fixtures/lockdown-community.json", "docker-entrypoint.sh"} <= set(sources)
    tracked = _tracked()
    for source in sources:
        assert (ROOT / source).exists(), source
        under = [name for name in tracked if name == source or name.startswith(source + "/")]
        assert under, source
        left_out = [name for name in under if ignored(name)]
        assert not left_out, f"the Dockerfile copies {source} but .dockerignore leaves out {left_out[:5]}"


def test_the_context_holds_only_what_the_dockerfile_copies():
    """A new top-level file or folder is left out of the context unless the image needs it: add it to
    .dockerignore (or to a COPY)."""
    sources = _copied_sources()
    extra = [
        name
        for name in _tracked()
        if not ignored(name) and not any(name == s or name.startswith(s + "/") for s in sources)
    ]
    assert not extra, f"sent to the builder but never copied: {extra}"


def test_every_stage_is_built_on_the_pinned_base():
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M)
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base[1])
    assert re.findall(r"^FROM (\S+)", DOCKERFILE, re.M) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    assert "latest" not in DOCKERFILE.lower()


def test_the_build_backend_is_locked_too():
    """pip would otherwise fetch whatever setuptools is newest to build rota (build isolation): the
    image and make install the one in requirements-build.lock, by hash, and build without isolation."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requires = project["build-system"]["requires"]
    lock = (ROOT / "requirements-build.lock").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+)", lock, re.M))
    for text in requires:
        requirement = Requirement(text)
        assert requirement.specifier.contains(pins[requirement.name]), (text, pins)
    assert lock.count("--hash=sha256:") >= len(pins)
    assert "pip install --require-hashes --no-deps -r requirements-build.lock" in DOCKERFILE
    assert "pip wheel --no-deps --no-build-isolation" in DOCKERFILE
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-r requirements-build.lock" in makefile and "--no-build-isolation -e ." in makefile


def test_the_runtime_stage_gets_the_venv_not_the_source():
    runtime = DOCKERFILE.split("\nFROM ")[2]
    copies = re.findall(r"^COPY (.+)$", runtime, re.M)
    assert copies == [
        "--from=build /opt/rota /opt/rota",
        "docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh",
    ]
    assert "/src" not in runtime
    assert "groupadd --system --gid 10001 rota" in runtime and "--uid 10001 --gid rota" in runtime
    assert 'CMD ["docker-entrypoint.sh", "healthcheck"]' in runtime
