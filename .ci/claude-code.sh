#!/usr/bin/env bash
# Install Claude Code at a pinned version from the npm registry into a cache folder outside the
# repository, and print the path of its native binary (the only line on stdout). The binary
# ships inside the platform package (@anthropic-ai/claude-code-linux-<arch>); nothing is
# downloaded at run time. Safe to run repeatedly: an install of the same version is kept.
# Usage: .ci/claude-code.sh VERSION PREFIX
set -euo pipefail

readonly version="$1"
readonly prefix="$2"

log() { echo "claude-code.sh: $*" >&2; }

case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) log "no Claude Code build for $(uname -m)"; exit 1 ;;
esac
if ldd --version 2>&1 | grep -qi musl; then arch="${arch}-musl"; fi
readonly binary="${prefix}/node_modules/@anthropic-ai/claude-code-linux-${arch}/claude"

installed_version() {
    [ -x "${binary}" ] && "${binary}" --version 2>/dev/null | awk '{print $1}'
}

if [ "$(installed_version || true)" != "${version}" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        log "installing npm"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >&2
    fi
    log "installing @anthropic-ai/claude-code@${version} into ${prefix}"
    mkdir -p "${prefix}"
    # --ignore-scripts: the package's postinstall only copies the platform binary we use as is
    npm install --prefix "${prefix}" --no-audit --no-fund --ignore-scripts \
        "@anthropic-ai/claude-code@${version}" >&2
fi

if [ "$(installed_version || true)" != "${version}" ]; then
    log "${binary} is not Claude Code ${version}"
    exit 1
fi
echo "${binary}"
