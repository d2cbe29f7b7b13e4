#!/usr/bin/env bash
# Installs code-server 4.100.3 (a real VS Code 1.100 workbench served to a browser) for the
# end-to-end tests in test/e2e/, outside the repository: $CNN_E2E_HOME (default
# ~/.cache/cnn-e2e)/code-server-4.100.3. Idempotent: does nothing when that install is complete.
#
# Needs Node 20 (code-server 4.100.3's engines) and the Debian packages that build its native
# modules: build-essential python3 pkg-config libkrb5-dev libx11-dev libxkbfile-dev
# libsecret-1-dev ripgrep. No GitHub access is needed: code-server's postinstall (which downloads
# ripgrep) is skipped and done here by hand, with Debian's rg.
#
# Prints the code-server entry point on its last line; test/e2e/ finds it by the same rule.
set -euo pipefail

VERSION=4.100.3
HOME_DIR="${CNN_E2E_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/cnn-e2e}"
DIR="$HOME_DIR/code-server-$VERSION"
ENTRY="$DIR/node_modules/code-server/out/node/entry.js"
READY="$DIR/.ready"

if [ -f "$READY" ] && [ -f "$ENTRY" ]; then
  echo "code-server $VERSION: already set up in $DIR"
  echo "$ENTRY"
  exit 0
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" != 20 ]; then
  echo "e2e-setup: code-server $VERSION needs Node 20 (this is $(node --version))" >&2
  exit 1
fi
missing=()
for c in make g++ python3 pkg-config rg; do command -v "$c" > /dev/null || missing+=("$c"); done
for h in /usr/include/krb5.h /usr/include/X11/Xlib.h /usr/include/X11/extensions/XKBfile.h; do [ -f "$h" ] || missing+=("$h"); done
pkg-config --exists libsecret-1 2> /dev/null || missing+=(libsecret-1)
if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e-setup: missing ${missing[*]}; install the Debian packages:" >&2
  echo "  apt-get install build-essential python3 pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep" >&2
  exit 1
fi

t0=$(date +%s)
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
echo '{ "name": "cnn-e2e-code-server", "private": true }' > package.json
npm_flags=(--no-audit --no-fund --loglevel=error)

# 1. code-server itself, without its postinstall.
npm install "${npm_flags[@]}" --ignore-scripts "code-server@$VERSION"
# argon2's prebuilt download fails offline; it builds from source.
npm rebuild "${npm_flags[@]}" argon2

# 2. The postinstall's work, in lib/vscode (VS Code's server and its native modules).
V="$DIR/node_modules/code-server/lib/vscode"
cd "$V"
npm install "${npm_flags[@]}" --omit=dev --ignore-scripts
# @vscode/ripgrep's postinstall downloads rg from GitHub; it exits early when bin/ exists.
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sfn "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
# node-pty's install runs `npx node-gyp`: npm_config_yes answers npx's prompt.
npm_config_yes=true npm rebuild "${npm_flags[@]}"
ln -sfn node_modules node_modules.asar
ln -sfn code-linux.sh bin/remote-cli/code-server
ln -sfn browser-linux.sh bin/helpers/browser.sh
(cd extensions && npm install "${npm_flags[@]}" --omit=dev)

# 3. Check: the server's native modules load and the CLI answers.
for m in node-pty @vscode/spdlog native-watchdog kerberos; do
  node -e "require(process.argv[1])" "$V/node_modules/$m" || { echo "e2e-setup: $m does not load" >&2; exit 1; }
done
node "$ENTRY" --version > /dev/null

touch "$READY"
echo "code-server $VERSION: set up in $DIR in $(($(date +%s) - t0)) s"
echo "$ENTRY"
