#!/usr/bin/env bash
# Installs the Debian tools the tests run on generated files: nginx (nginx -t and a live proxy
# on 127.0.0.1), shellcheck, openssl (a throwaway certificate), curl (the health gate), busybox
# (the wget that alpine images, and so the frontend and proxy health checks, run) and the OpenSSH
# client (the workflow's known_hosts step is run against `ssh -G`).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
packages=(
  nginx-light shellcheck openssl curl ca-certificates busybox openssh-client
  # Backups: Debian packages of that area's tests go on the line below.
  postgresql sqlite3 awscli prometheus systemd

  # Monitoring and alerts:
  # promtool (check config/rules, test rules), amtool and Alertmanager, the blackbox exporter.
  prometheus prometheus-alertmanager prometheus-blackbox-exporter
  # mtail 3.0.0~rc50 (Debian 12): the backend log exporter's rendered program runs on json-file log
  # lines; the version the deployed image pins (components/monitoring/mtail-image/Dockerfile).
  mtail

  # Hosts and firewall:
  # iptables (the nft backend, as Debian's Docker hosts use) and iproute2: the host firewall under real
  # packet filtering in network namespaces; nftables for `nft list ruleset` when a test needs it.
  iptables nftables iproute2

  # Secret rotation:
  postgresql  # PostgreSQL 15: the rendered database role rotation runs against a real server

  # Releases and rollback:
  python3-django python3-psycopg2  # Django 3.2: the LMS stand-in's down-migration runs on a real Django

  # Maintenance, scaling and diagnostics:
  # sqlite3 (the SQLite upkeep and diagnostics run on real files), systemd-analyze (every timer's schedule
  # is checked with `systemd-analyze calendar`); PostgreSQL for the upkeep jobs is the line above.
  sqlite3 systemd postgresql

  # Centralized logging:
  # rsyslog 8.2302 (Debian 12) and its TLS driver: the log collector's rendered config runs on json-file
  # logs and forwards to a second rsyslogd; the version the collector's image pins
  # (components/logging/rsyslog-image/Dockerfile).
  rsyslog rsyslog-gnutls

  # Adoption:

  # Connection pooling:
  pgbouncer  # PgBouncer 1.18: the rendered pgbouncer.ini and auth step run in front of the PostgreSQL above

)
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# The package may start a system nginx on port 80; the tests start their own on 127.0.0.1.
$SUDO service nginx stop >/dev/null 2>&1 || true
# Monitoring and alerts: the packages start Prometheus (9090), Alertmanager (9093), the blackbox
# exporter (9115), mtail (3903) and rsyslog as services where the init system allows it; the tests run their
# own on 127.0.0.1.
# Connection pooling: the package starts PgBouncer (6432) where the init system allows it; the tests run their own.
$SUDO service pgbouncer stop >/dev/null 2>&1 || true
for service in prometheus prometheus-alertmanager prometheus-blackbox-exporter mtail rsyslog; do
  $SUDO service "$service" stop >/dev/null 2>&1 || true
done
echo "test tools: $(nginx -v 2>&1), shellcheck $(shellcheck --version | sed -n 's/^version: //p'), $(openssl version | cut -d' ' -f1-2)"
echo "monitoring tools: $(promtool --version 2>&1 | head -n 1 | cut -d' ' -f1-3), $(amtool --version 2>&1 | head -n 1 | cut -d' ' -f1-3), $(prometheus-blackbox-exporter --version 2>&1 | head -n 1 | cut -d' ' -f1-3), $(mtail --version 2>&1 | head -n 1 | cut -d' ' -f1-3)"
