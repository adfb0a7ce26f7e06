#!/usr/bin/env bash
# Install the Label Studio server that the review tests start, in its own virtual environment
# (label-studio 1.23.2 pins openai<2 and pyarrow<25, which clash with lrsgro's), and build a
# migrated template database once so each test session starts the server in seconds.
#
# Standard output carries only `export` lines, so a caller can run
#     eval "$(.ci/install_label_studio.sh)"
# Progress and errors go to standard error. Both the venv and the template are cached under
# $LRSGRO_CI_CACHE (default ~/.cache/lrsgro-ci) and reused while the version stays the same.
# Set LRSGRO_LS_SKIP_TEMPLATE=1 to skip the template (the tests then migrate a fresh database,
# about 30 s more per session).
set -euo pipefail

LS_VERSION="1.23.2"
PYTHON="${PYTHON:-python3}"
CACHE="${LRSGRO_CI_CACHE:-$HOME/.cache/lrsgro-ci}"
VENV="$CACHE/lsvenv-$LS_VERSION"
TEMPLATE="$CACHE/ls-template-$LS_VERSION/label_studio.sqlite3"
EXE="$VENV/bin/label-studio"

# Must match ADMIN_EMAIL, ADMIN_PASSWORD and ADMIN_TOKEN in tests/label_studio_fixture.py.
ADMIN_EMAIL="admin@example.com"
ADMIN_PASSWORD="admin-pass-123"
ADMIN_TOKEN="0123456789abcdef0123456789abcdef01234567"

install_server() {
    if [ -x "$EXE" ] && "$VENV/bin/python" -m pip show label-studio 2>/dev/null | grep -qx "Version: $LS_VERSION"; then
        echo "label-studio $LS_VERSION already installed in $VENV" >&2
        return
    fi
    echo "installing label-studio $LS_VERSION into $VENV (about a minute)" >&2
    mkdir -p "$CACHE"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet "label-studio==$LS_VERSION" >&2
}

build_template() {
    if [ "${LRSGRO_LS_SKIP_TEMPLATE:-0}" = "1" ] || [ -f "$TEMPLATE" ]; then
        return
    fi
    echo "building the Label Studio template database (about 30 s)" >&2
    local work
    work="$(mktemp -d "$CACHE/ls-init.XXXXXX")"
    # The legacy-token switch is stored in the organisation when the first user is created,
    # so it must be on here. Plain USERNAME/PASSWORD/HOST/PORT would override the settings.
    env -u USERNAME -u PASSWORD -u HOST -u PORT \
        LABEL_STUDIO_BASE_DATA_DIR="$work" \
        LABEL_STUDIO_USERNAME="$ADMIN_EMAIL" \
        LABEL_STUDIO_PASSWORD="$ADMIN_PASSWORD" \
        LABEL_STUDIO_USER_TOKEN="$ADMIN_TOKEN" \
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
        SENTRY_DSN= FRONTEND_SENTRY_DSN= LATEST_VERSION_CHECK=false COLLECT_ANALYTICS=false \
        "$EXE" init --quiet --no-browser --data-dir "$work" >"$work/init.log" 2>&1 || {
            echo "label-studio init failed; log follows" >&2
            cat "$work/init.log" >&2
            rm -rf "$work"
            exit 1
        }
    mkdir -p "$(dirname "$TEMPLATE")"
    mv "$work/label_studio.sqlite3" "$TEMPLATE.partial"
    mv "$TEMPLATE.partial" "$TEMPLATE"
    rm -rf "$work"
}

install_server
build_template

echo "export LRSGRO_LABEL_STUDIO_EXE='$EXE'"
if [ -f "$TEMPLATE" ]; then
    echo "export LRSGRO_LS_TEMPLATE_DB='$TEMPLATE'"
fi
