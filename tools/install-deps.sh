#!/usr/bin/env bash
# Installs the Debian packages MangaColor builds against. Safe to rerun.
set -euo pipefail
# libopenmpi-dev and openmpi-bin: data-parallel training (mpirun -n N mangacolor train); the package builds without them.
pkgs=(libopenblas-dev libpng-dev libjpeg-dev libprotobuf-c-dev protobuf-c-compiler pkg-config libopenmpi-dev openmpi-bin)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
