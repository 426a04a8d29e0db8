# Sourced by scripts/bot and scripts/test: creates .venv and installs the project when
# pyproject.toml changed since the last install. $1 is the pip extra to install ("" or "dev").
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
    local spec="." stamp installed
    [ -n "$extra" ] && spec=".[$extra]"
    stamp="$(sha256sum < pyproject.toml | cut -d' ' -f1)-$extra"
    installed="$(cat .venv/.installed 2>/dev/null || true)"
    # An install with the dev extra also serves the plain one.
    if [ "$installed" != "$stamp" ] && [ "$installed" != "${stamp%-}-dev" ]; then
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
        echo "$stamp" > .venv/.installed
    fi
}
