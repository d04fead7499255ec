#!/bin/sh
# Installs what psflow needs from Debian's archive when it is missing.
#   build: libzmq, msgpack-c, ISA-L (CRC-32), libsodium, librsvg and cairo, xgboost,
#          libpq, sqlite3, jansson (found with pkg-config)
#   db:    a PostgreSQL server for the database tests
#   test:  python3-msgpack for the interop tests, python3-numpy,
#          python3-statsmodels and python3-xgboost for the independent
#          checks (used from /usr/bin/python3), GNU parallel for the
#          scheduler example,
#          valgrind, GNU time, man-db and col for the man pages
#   foreign: python3-sklearn for the foreign-stage example (best effort)
#   browser: chromium for the report's browser test (best effort: the test
#          skips without it)
#   clang: clang and its sanitizer runtimes for make check-asan-clang
#   fuzz:  clang (libFuzzer) for make fuzz
#   bench: python3-sklearn, -pandas, -numpy for the reference implementations
set -eu

need=""
case "${1:-build}" in
build)
	command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
	pkg-config --exists libzmq 2>/dev/null || need="$need libzmq3-dev"
	pkg-config --exists msgpack 2>/dev/null || need="$need libmsgpack-dev"
	pkg-config --exists libisal 2>/dev/null || need="$need libisal-dev"
	pkg-config --exists libsodium 2>/dev/null || need="$need libsodium-dev"
	pkg-config --exists librsvg-2.0 cairo 2>/dev/null || need="$need librsvg2-dev libcairo2-dev"
	pkg-config --exists xgboost 2>/dev/null || need="$need libxgboost-dev"
	pkg-config --exists libpq 2>/dev/null || need="$need libpq-dev"
	pkg-config --exists sqlite3 2>/dev/null || need="$need libsqlite3-dev"
	pkg-config --exists jansson 2>/dev/null || need="$need libjansson-dev"
	;;
db)
	# the database tests start their own PostgreSQL server (initdb, pg_ctl)
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need="$need postgresql"
	command -v sqlite3 >/dev/null 2>&1 || need="$need sqlite3"
	;;
test)
	/usr/bin/python3 -c 'import msgpack' 2>/dev/null || need="$need python3-msgpack"
	/usr/bin/python3 -c 'import numpy' 2>/dev/null || need="$need python3-numpy"
	/usr/bin/python3 -c 'import statsmodels' 2>/dev/null || need="$need python3-statsmodels"
	/usr/bin/python3 -c 'import xgboost' 2>/dev/null || need="$need python3-xgboost"
	# the hostile-peer and CURVE interop tests speak ZeroMQ with pyzmq
	/usr/bin/python3 -c 'import zmq' 2>/dev/null || need="$need python3-zmq"
	command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
	command -v parallel >/dev/null 2>&1 || need="$need parallel"
	[ -x /usr/bin/time ] || need="$need time"
	# the man pages are rendered by the install test
	command -v man >/dev/null 2>&1 || need="$need man-db"
	command -v col >/dev/null 2>&1 || need="$need bsdextrautils"
	;;
foreign)
	# for the foreign-stage example and its test; the test skips without it
	/usr/bin/python3 -c 'import sklearn, numpy' 2>/dev/null ||
		need="$need python3-sklearn python3-numpy"
	;;
browser)
	command -v chromium >/dev/null 2>&1 || need="$need chromium"
	;;
clang)
	# check-asan-clang: clang and its sanitizer runtimes
	command -v clang >/dev/null 2>&1 || need="$need clang"
	echo 'int main(void){return 0;}' | clang -x c -fsanitize=address,undefined -o /dev/null - \
		2>/dev/null || need="$need libclang-rt-14-dev"
	;;
fuzz)
	# make fuzz: libFuzzer comes with clang
	command -v clang >/dev/null 2>&1 || need="$need clang"
	;;
bench)
	/usr/bin/python3 -c 'import sklearn, pandas, numpy' 2>/dev/null ||
		need="$need python3-sklearn python3-pandas python3-numpy"
	[ -x /usr/bin/time ] || need="$need time"
	;;
*)
	echo "install-deps.sh: unknown set '$1' (build, test, db, foreign, browser, clang, fuzz or bench)" >&2
	exit 2
	;;
esac
[ -z "$need" ] && exit 0

echo "install-deps: installing$need" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "install-deps: need root to install$need; run: apt-get install -y$need" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2 || true
# shellcheck disable=SC2086
if ! $sudo apt-get install -y -qq $need >&2; then
	echo "install-deps: apt-get could not install$need" >&2
	exit 1
fi
