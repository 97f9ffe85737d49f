#!/bin/sh
# scripts/deps.sh: install every build, test and benchmark dependency of
# Coffer from Debian 12's packages.  Idempotent: safe to run twice; it
# only calls apt-get when something is missing.
set -eu

PKGS="build-essential cmake pkg-config git
libmicrohttpd-dev libgnutls28-dev gnutls-bin libjansson-dev
libsqlite3-dev sqlite3 libcurl4-gnutls-dev libsodium-dev
liboath-dev librhonabwy-dev libexpat1-dev libcmocka-dev libqrencode-dev
zlib1g-dev
clang libclang-rt-14-dev llvm
python3 python3-pytest python3-requests python3-boto3 python3-cryptography
python3-jwt python3-prometheus-client prometheus awscli s3cmd rclone
libp11-kit-dev softhsm2
curl openssl nginx-light wrk procps"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

# node and npm: the AWS SDK for JavaScript v3 from npm is one of the S3
# clients of the e2e suite (tests/e2e/test_s3_sdkjs.py runs `npm ci` of
# tests/e2e/js into the build tree); Debian 12's nodejs 18 and npm 9 are
# enough.  Checked by command, not by package: a NodeSource nodejs also
# provides npm (and conflicts with Debian's), and either will do.
if ! command -v node >/dev/null 2>&1; then
	missing="$missing nodejs"
fi
if ! command -v npm >/dev/null 2>&1; then
	missing="$missing npm"
fi

if [ -z "$missing" ]; then
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
