#!/usr/bin/env bash
# Install kreview's build and test dependencies (Debian 12 package names).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
	build-essential cmake pkg-config git ca-certificates xz-utils python3 \
	libcurl4-openssl-dev libjson-c-dev libgit2-dev libnotmuch-dev \
	libsqlite3-dev libyaml-dev libgmime-3.0-dev libpcre2-dev libcmocka-dev \
	libssl-dev libzstd-dev \
	clang-14 libclang-rt-14-dev \
	linux-source-6.1 chromium
