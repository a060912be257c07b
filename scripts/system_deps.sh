#!/usr/bin/env bash
# Installs the Debian packages the tests need (a browser, graphviz, database servers, and
# wrk for bench/serve.py)
# when they are missing. Run by `make test`; needs root (or sudo) and Debian's apt.
set -euo pipefail

# One entry per line, "command:package": the command it provides, then the Debian package.
REQUIRED=(
  dot:graphviz                 # lineage --format dot, rendered to SVG in tests
  pg_ctlcluster:postgresql     # ML Metadata on a real server (server binaries live in
                               # /usr/lib/postgresql/<v>/bin, off PATH)
  mariadbd:mariadb-server      # ML Metadata on MySQL (MariaDB), the other server backend
  chromium:chromium            # the HTML drift report, rendered headless in tests
  wrk:wrk                      # bench/serve.py: HTTP load on `serve`
)

missing=()
for entry in "${REQUIRED[@]}"; do
  command_name=${entry%%:*}
  package=${entry#*:}
  command -v "$command_name" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing system packages: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
