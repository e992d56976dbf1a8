/**
 * The host's package updates, as the `os-updates` timer runs them (FDTS "Weekly Maintenance" step 1,
 * "sudo apt update && sudo apt upgrade -y", and step 5, "apt list --upgradable | grep -i security";
 * "Monthly Maintenance" step 3). A pure function; the script runs as root, on the schedule of the
 * weekly jobs (Sunday 02:00 UTC).
 *
 * `apps.<id>.maintenance.osUpdates`:
 * - `security`: only packages whose new version comes from a security archive (`*-security`);
 * - `all`: every upgradable package, as the runbook's `apt upgrade -y`;
 * - `off` (the default): an existing host is its owner's to patch; a host the stack creates runs
 *   unattended-upgrades from its first boot (components/hosts/userData.ts).
 * Either way the Docker engine's packages are left out (`docker.io`, `docker-ce`, `containerd`, `runc`
 * ...): upgrading them restarts the daemon and with it every container of every app on the host, a
 * downtime that belongs in a maintenance window, done by a person. A chosen package whose upgrade
 * needs a newer one of them (apt would bring it in as a dependency) is left too: the job simulates the
 * install first, and then each package alone to find which; should the rest together still need one, or
 * apt refuse to simulate an install (no `Inst` lines then tell anything), it upgrades nothing and fails. The chosen packages are upgraded with `apt-get install
 * --only-upgrade --no-remove`: nothing not yet installed is chosen, and apt stops rather than remove a
 * package; a changed config file keeps the host's version (`--force-confold`).
 * Several apps on one host each run it: apt's own lock serialises them (waited for up to 30 minutes),
 * and the second finds nothing left to do.
 *
 * Its metrics, for the node exporter's textfile collector (`runbook_os_updates_<app>.prom`): packages
 * still upgradable afterwards (all, and from a security archive), whether the host asks for a reboot
 * (`/var/run/reboot-required`, which a person schedules), and when the job last succeeded.
 */
import { TEXTFILE_DIR } from "../backups/metrics";

/** `apps.<id>.maintenance.osUpdates` (config/maintenance.ts reads its values from here). */
export const OS_UPDATES_MODES = ["off", "security", "all"] as const;
export type OsUpdatesMode = (typeof OS_UPDATES_MODES)[number];

/** Packages of the Docker engine (Debian's and Docker's own): never upgraded by the job. */
export const DOCKER_ENGINE_PACKAGES: readonly string[] = ["docker.io", "docker-ce", "docker-ce-cli", "docker-ce-rootless-extras", "containerd", "containerd.io", "runc", "docker-buildx-plugin", "docker-compose-plugin"];

export const OS_UPDATE_METRICS = {
  pending: "runbook_host_upgradable_packages",
  rebootRequired: "runbook_host_reboot_required",
  lastSuccess: "runbook_host_os_updates_last_success_timestamp_seconds",
} as const;

export function renderOsUpdatesScript(spec: { readonly appId: string; readonly mode: Exclude<OsUpdatesMode, "off"> }): string {
  if (!/^[a-z][a-z0-9-]*$/.test(spec.appId)) throw new Error(`\`appId\` must be a catalog id (got ${spec.appId})`);
  const engine = DOCKER_ENGINE_PACKAGES.join("|").replaceAll(".", "\\.");
  return `#!/bin/sh
# Package updates (${spec.mode}) on ${spec.appId}'s host: rendered by runbook-as-code, do not edit by hand.
set -eu
app=${spec.appId}
metrics_dir="\${METRICS_DIR:-${TEXTFILE_DIR}}"
reboot_file="\${REBOOT_REQUIRED_FILE:-/var/run/reboot-required}"
export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
apt() { apt-get -q -o DPkg::Lock::Timeout=1800 "$@"; }
apt update >/dev/null
# What an upgrade would install: "Inst <package> [<old>] (<new> <archive> [<arch>])" per package.
upgradable() { apt-get -s -o Debug::NoLocking=1 upgrade | awk '$1 == "Inst" { print $2, $0 }'; }
upgradable > "$work/before"
# The Docker engine stays as it is (see osUpdates.ts); ${spec.mode === "security" ? "only packages from a security archive" : "every other package"}.
awk '{ print $1 }' "$work/before" | grep -Ev '^(${engine})$' > "$work/candidates" || true
${spec.mode === "security" ? `grep -E '^[^ ]+ .*\\(.*-security[ ,/]' "$work/before" | awk '{ print $1 }' | grep -Fxf "$work/candidates" > "$work/chosen" || true` : 'cp "$work/candidates" "$work/chosen"'}
held=$(awk '{ print $1 }' "$work/before" | grep -Ex '${engine}' | tr '\\n' ' ' || true)
if [ -n "$held" ]; then echo "$app: left for a maintenance window (they restart every container): $held"; fi
engine_re='^(${engine})$'
# Whether installing packages would install a Docker engine package with them: apt's simulation prints an
# "Inst" line for each package it would unpack, the upgrades they depend on included. When apt refuses
# instead (a removal that --no-remove forbids, a dependency it cannot meet) it exits 100 before printing
# any: the job stops there rather than read that silence as "no engine package" (sh has no pipefail).
needs_engine() {
  if ! apt-get -s -o Debug::NoLocking=1 install --only-upgrade --no-remove "$@" > "$work/simulated"; then
    echo "$app: apt could not simulate upgrading $*: nothing upgraded" >&2
    exit 1
  fi
  awk '$1 == "Inst" { print $2 }' "$work/simulated" | grep -Eq "$engine_re"
}
# shellcheck disable=SC2046 # one word per package name
if [ -s "$work/chosen" ] && needs_engine $(cat "$work/chosen"); then
  : > "$work/kept"
  while read -r p; do
    if needs_engine "$p"; then echo "$p" >> "$work/kept"; fi
  done < "$work/chosen"
  grep -Fvxf "$work/kept" "$work/chosen" > "$work/rest" || true
  mv "$work/rest" "$work/chosen"
  echo "$app: left with the Docker engine (each needs a newer package of it): $(tr '\\n' ' ' < "$work/kept")"
  # shellcheck disable=SC2046 # one word per package name
  if [ -s "$work/chosen" ] && needs_engine $(cat "$work/chosen"); then
    echo "$app: the other upgrades together still need a newer Docker engine package: nothing upgraded; upgrade in a maintenance window" >&2
    exit 1
  fi
fi
if [ -s "$work/chosen" ]; then
  # shellcheck disable=SC2046 # one word per package name
  apt install -y --only-upgrade --no-remove -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $(cat "$work/chosen")
  echo "$app: upgraded $(wc -l < "$work/chosen" | tr -d ' ') package(s): $(tr '\\n' ' ' < "$work/chosen")"
else
  echo "$app: no package to upgrade"
fi
upgradable > "$work/after"
all=$(wc -l < "$work/after" | tr -d ' ')
security=$(grep -cE '^[^ ]+ .*\\(.*-security[ ,/]' "$work/after" || true)
reboot=0
if [ -e "$reboot_file" ]; then reboot=1; echo "$app: the host asks for a reboot ($reboot_file): schedule one in a maintenance window"; fi
mkdir -p "$metrics_dir"
tmp="$metrics_dir/.runbook_os_updates_$app.prom.$$"
{
  echo "# HELP ${OS_UPDATE_METRICS.pending} Packages still upgradable after the os-updates job, all and from a security archive."
  echo "# TYPE ${OS_UPDATE_METRICS.pending} gauge"
  printf '${OS_UPDATE_METRICS.pending}{app="%s",archive="all"} %s\\n' "$app" "$all"
  printf '${OS_UPDATE_METRICS.pending}{app="%s",archive="security"} %s\\n' "$app" "$security"
  echo "# HELP ${OS_UPDATE_METRICS.rebootRequired} 1 when the host asks for a reboot after its updates."
  echo "# TYPE ${OS_UPDATE_METRICS.rebootRequired} gauge"
  printf '${OS_UPDATE_METRICS.rebootRequired}{app="%s"} %s\\n' "$app" "$reboot"
  echo "# HELP ${OS_UPDATE_METRICS.lastSuccess} When the os-updates job last succeeded."
  echo "# TYPE ${OS_UPDATE_METRICS.lastSuccess} gauge"
  printf '${OS_UPDATE_METRICS.lastSuccess}{app="%s"} %s\\n' "$app" "$(date -u +%s)"
} > "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$metrics_dir/runbook_os_updates_$app.prom"
`;
}
