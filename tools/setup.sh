#!/usr/bin/env bash
# Installs what edgetag's build and tests need on Debian 12: apt packages, then the npm packages pinned
# in package-lock.json. Idempotent: when everything is present it prints nothing and takes well under
# a second. Needs root or sudo only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32   # C → wasm32-wasi
  libclang-rt-19-dev                                      # libFuzzer and sanitizers for clang-19
  gcc libc6-dev libsimde-dev                              # native build: the same kernels via SIMDe
  python3-numpy python3-torch                             # converter; PyTorch reference outputs
  nodejs                                                  # wasm tests
  chromium                                                # browser tests and benchmarks (playwright-core)
  python3-onnx                                            # bench: the same weights exported to ONNX
  webkit2gtk-driver xvfb                                  # Safari's engine family (WebKitGTK) for browser tests
  python3-fake-factory wordnet-base python3-matplotlib    # training data (fake values, WordNet text); report plots
  libopenblas0-pthread                                    # training: OpenBLAS, about 10x the reference BLAS (tools/train/runtime.py)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm: reinstall only when the lock file is newer than the installed tree.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  # onnxruntime-node's install script would download CUDA libraries; its CPU binary ships in the package. The
  # copy transformers.js depends on (1.21) reads the older variable name.
  ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
