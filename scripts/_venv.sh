# Sourced by scripts/bot and scripts/test: creates .venv and installs the project when its
# pyproject files changed since the last install. $1 is the pip extra to install: "demo" (the bot
# and the Discord emulator its demo runs on) or "dev" (that, plus the test and lint tools).
ensure_venv() {
    local extra="$1" python="" candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            python="$candidate"
            break
        fi
    done
    if [ -z "$python" ]; then
        echo "error: Python 3.11 or newer is needed (python3.11, python3.12 or python3.13 on PATH)" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        "$python" -m venv .venv
    fi
    local stamp installed
    stamp="$(cat pyproject.toml discord_emulator/pyproject.toml | sha256sum | cut -d' ' -f1)"
    installed="$(cat .venv/.installed 2>/dev/null || true)"
    # The dev extra includes everything the demo extra installs.
    if [ "$installed" != "$stamp-$extra" ] && [ "$installed" != "$stamp-dev" ]; then
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
        # The emulator comes from this repository (it is not on PyPI): naming its folder here makes
        # pip take it from there for the extra that asks for it.
        .venv/bin/python -m pip install --quiet --disable-pip-version-check \
            -e ./discord_emulator -e ".[$extra]"
        echo "$stamp-$extra" > .venv/.installed
    fi
}
