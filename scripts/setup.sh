#!/usr/bin/env bash
# Installs everything Delineate's tests and app need on a Debian machine, from the npm registry and
# Debian's packages only. Safe to run again. Used by README's commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(dcm2niix dicom3tools dcmtk orthanc python3-pydicom python3-numpy python3-scipy python3-nibabel chromium iproute2 plastimatch)
DEBS+=(slurm-wlm munge)  # the cluster acceptance test starts a one-node Slurm cluster
DEBS+=(elastix)  # the classic multi-atlas peer of `npm run bench -- atlas`
missing=()
for p in "${DEBS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (tests that need them skip): ${missing[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${missing[*]}" >&2
  fi
fi

# The Electron binary and onnxruntime-node's CUDA libraries are downloads from hosts outside the
# npm registry; skip them (the CPU provider is bundled in the package). better-sqlite3 builds from
# source against the installed Node headers.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
export ONNXRUNTIME_NODE_INSTALL=skip
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# A native module built for Electron's ABI (after `npm run app` or `npm run dist`) does not load in
# Node: rebuild it for Node so the CLI and the tests work.
if ! node -e "new (require('better-sqlite3'))(':memory:').close()" >/dev/null 2>&1; then
  echo "setup: rebuilding better-sqlite3 for Node $(node --version)" >&2
  npm rebuild better-sqlite3
fi
