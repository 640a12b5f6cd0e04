#!/usr/bin/env bash
# `npm run app`: install and start the desktop application on a user machine with network access.
# Unlike `npm run setup` (tests, offline-capable), this lets npm download the Electron binary and,
# on Linux x64, ONNX Runtime's CUDA provider libraries, then rebuilds the native modules
# (better-sqlite3, onnxruntime-node) for Electron's ABI and starts the app.
# Afterwards `npm run setup` rebuilds better-sqlite3 for Node again before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
unset ELECTRON_SKIP_BINARY_DOWNLOAD ONNXRUNTIME_NODE_INSTALL
if ! node -e "require('electron')" >/dev/null 2>&1 || [ ! -e node_modules/electron/path.txt ]; then
  npm ci --no-audit --no-fund
fi
npx electron-builder install-app-deps
npm start
