#!/usr/bin/env bash
# Orchflow's one entry point for people and CI.
#
#   ./orchflow.sh serve   install what is missing, build (Release), start the
#                         server on the embedded defaults (127.0.0.1:8000,
#                         ./data, built-in offline provider)
#   ./orchflow.sh test    install what is missing, build, run the whole suite
#   ./orchflow.sh build   install what is missing and build only
#   ./orchflow.sh bench   install, build, run the benchmark table (bench/)
#
# Extra arguments after `serve` go to the server (e.g. --listen 0.0.0.0:9000).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(g++ cmake make pkg-config libcaf-dev librocksdb-dev libboost-dev
  nlohmann-json3-dev libcurl4-openssl-dev libssl-dev libspdlog-dev
  libgtest-dev zlib1g-dev python3 python3-requests curl wrk)

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    return
  fi
  echo "orchflow: installing ${missing[*]}" >&2
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2
}

cmd=${1:-serve}
shift || true
case "$cmd" in
  serve)
    install_deps
    build
    exec build/orchflow "$@"
    ;;
  build)
    install_deps
    build
    ;;
  test)
    install_deps
    build
    ctest --test-dir build --output-on-failure --timeout 600 -j2
    ;;
  bench)
    install_deps
    build
    exec python3 bench/run_all.py "$@"
    ;;
  *)
    echo "usage: $0 serve|test|build|bench" >&2
    exit 2
    ;;
esac
