/**
 * The host firewall of an existing Docker host, as pure functions: the rules (`iptables-restore`
 * input, one per address family) and the POSIX sh scripts that install and apply them.
 *
 * Why not ufw: Docker publishes container ports with DNAT in the nat table and accepts them in its
 * own FORWARD chains, before ufw's INPUT rules ever see the packet, so `ufw deny 80` leaves a
 * published port open (FDTS runbook "Security Incident - Critical", `ufw deny 80`). Docker reserves
 * the `DOCKER-USER` chain for rules that must come first: FORWARD jumps to it before Docker's own
 * chains, and Docker never flushes it. The rules here live in two chains of their own, rebuilt
 * atomically on every apply (`iptables-restore --noflush` flushes and refills a chain it declares,
 * and leaves every other chain alone):
 * - `RUNBOOK-INPUT`, jumped to first from INPUT: what reaches the host itself (sshd, a host listener);
 * - `RUNBOOK-DOCKER`, jumped to first from DOCKER-USER: what reaches a published container port.
 *   The public ports are matched on the port the client dialled (`conntrack --ctorigdstport`, the
 *   port before Docker's DNAT), as Docker's documentation recommends, so the rule holds whatever
 *   port the container listens on.
 */
import { parseCidr } from "./cidr";

export interface HostFirewallSpec {
  /** Ports the host's proxies publish to the public: 80 and 443 (staging's 8001, 8444...). */
  readonly publicPorts: readonly number[];
  /** The port sshd listens on. */
  readonly sshPort: number;
  /** Where admins connect from. Empty: ssh stays open to all (staging without admin CIDRs). */
  readonly adminCidrs: readonly string[];
  /** Addresses refused everything (the runbooks' "block a suspicious IP"). */
  readonly blockedCidrs: readonly string[];
  /** Incident lockdown: the public ports admit admin CIDRs only; ssh is unchanged. */
  readonly lockdown: boolean;
}

export const CHAINS = { input: "RUNBOOK-INPUT", docker: "RUNBOOK-DOCKER" } as const;

/** Where the install script keeps the rules and the apply script on the host. */
export const HOST_FIREWALL_PATHS = {
  dir: "/etc/runbook/firewall",
  apply: "/usr/local/sbin/runbook-firewall-apply",
  unit: "/etc/systemd/system/runbook-firewall.service",
} as const;

function validate(spec: HostFirewallSpec): void {
  for (const p of [...spec.publicPorts, spec.sshPort]) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`\`publicPorts\` and \`sshPort\` must be ports from 1 to 65535 (got ${p})`);
  }
  if (spec.publicPorts.includes(spec.sshPort)) throw new Error(`\`sshPort\` ${spec.sshPort} must not be one of \`publicPorts\``);
  if (spec.lockdown && spec.adminCidrs.length === 0) throw new Error("`lockdown` needs `adminCidrs`: without them nobody could reach the app to verify it");
  for (const c of [...spec.adminCidrs, ...spec.blockedCidrs]) parseCidr(c);
}

/** `iptables-restore --noflush` input for one address family (4: iptables, 6: ip6tables). */
export function renderHostFirewallRules(spec: HostFirewallSpec, family: 4 | 6): string {
  validate(spec);
  const mine = (list: readonly string[]) => list.map(parseCidr).filter((c) => c.family === family).map((c) => c.text);
  const admin = mine(spec.adminCidrs);
  const blocked = mine(spec.blockedCidrs);
  const restrictSsh = spec.adminCidrs.length > 0;
  const ports = [...new Set(spec.publicPorts)].sort((a, b) => a - b);
  const icmp = family === 4 ? "icmp" : "ipv6-icmp";
  const IN = CHAINS.input;
  const DK = CHAINS.docker;
  const lines: string[] = ["*filter", `:${IN} - [0:0]`, `:${DK} - [0:0]`];

  // The host itself. Loopback and Docker's bridges (containers calling the host) are not governed.
  lines.push(`-A ${IN} -i lo -j RETURN`, `-A ${IN} -i docker0 -j RETURN`, `-A ${IN} -i br-+ -j RETURN`);
  for (const c of blocked) lines.push(`-A ${IN} -s ${c} -j DROP`);
  // Established sessions stay up (an admin's ssh, the deploy step that applies these rules).
  lines.push(`-A ${IN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`);
  lines.push(`-A ${IN} -p ${icmp} -j RETURN`);
  if (family === 4) lines.push(`-A ${IN} -p udp --sport 67 --dport 68 -j RETURN`);
  else lines.push(`-A ${IN} -s fe80::/10 -p udp --sport 547 --dport 546 -j RETURN`);
  if (restrictSsh) {
    for (const c of admin) lines.push(`-A ${IN} -s ${c} -p tcp --dport ${spec.sshPort} -j RETURN`);
  } else {
    lines.push(`-A ${IN} -p tcp --dport ${spec.sshPort} -j RETURN`);
  }
  for (const port of ports) {
    if (spec.lockdown) for (const c of admin) lines.push(`-A ${IN} -s ${c} -p tcp --dport ${port} -j RETURN`);
    else lines.push(`-A ${IN} -p tcp --dport ${port} -j RETURN`);
  }
  lines.push(`-A ${IN} -j DROP`);

  // Published container ports (FORWARD, through DOCKER-USER). Traffic from containers (egress, and
  // between them) is not governed here: Docker's networks do that.
  lines.push(`-A ${DK} -i docker0 -j RETURN`, `-A ${DK} -i br-+ -j RETURN`);
  for (const c of blocked) lines.push(`-A ${DK} -s ${c} -j DROP`);
  const dialled = (port: number) => `-p tcp -m conntrack --ctorigdstport ${port} --ctdir ORIGINAL`;
  for (const port of ports) {
    if (spec.lockdown) {
      for (const c of admin) lines.push(`-A ${DK} -s ${c} ${dialled(port)} -j RETURN`);
      // Before the ESTABLISHED rule: a lockdown also cuts the public's open connections.
      lines.push(`-A ${DK} ${dialled(port)} -j DROP`);
    } else {
      lines.push(`-A ${DK} ${dialled(port)} -j RETURN`);
    }
  }
  // Replies to the containers' own outbound connections (Stripe, Algorand...).
  lines.push(`-A ${DK} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`);
  lines.push(`-A ${DK} -j DROP`, "COMMIT", "");
  return lines.join("\n");
}

/**
 * Applies the rules files in `$RUNBOOK_FIREWALL_DIR` (default the installed directory): rebuilds
 * both chains atomically per family and makes sure INPUT and DOCKER-USER jump to them first.
 * Idempotent: a second run leaves `iptables-save` unchanged. Runs as root.
 */
export function renderHostFirewallApplyScript(): string {
  return `#!/bin/sh
# Runbook as Code host firewall: applies ${HOST_FIREWALL_PATHS.dir}/rules.v4 and rules.v6.
set -eu
dir="\${RUNBOOK_FIREWALL_DIR:-${HOST_FIREWALL_PATHS.dir}}"

# first_jump TOOL CHAIN TARGET: TARGET is the first rule of CHAIN, exactly once.
first_jump() {
  if [ "$("$1" -w -S "$2" | sed -n 2p)" = "-A $2 -j $3" ] && [ "$("$1" -w -S "$2" | grep -c -- "-j $3\\$")" -eq 1 ]; then
    return 0
  fi
  while "$1" -w -D "$2" -j "$3" 2>/dev/null; do :; done
  "$1" -w -I "$2" 1 -j "$3"
}

apply_family() {
  tool="$1"
  rules="$2"
  if [ ! -f "$rules" ]; then
    return 0
  fi
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "runbook-firewall: $tool is missing (apt-get install iptables)" >&2
    exit 1
  fi
  # Docker creates DOCKER-USER when it starts and keeps what it holds; before Docker, make it here.
  "$tool" -w -N DOCKER-USER 2>/dev/null || true
  "$tool-restore" -w --noflush < "$rules"
  first_jump "$tool" INPUT ${CHAINS.input}
  first_jump "$tool" DOCKER-USER ${CHAINS.docker}
}

apply_family iptables "$dir/rules.v4"
apply_family ip6tables "$dir/rules.v6"
echo "runbook-firewall: applied the rules of $dir"
`;
}

/** The systemd unit that applies the rules at boot, before Docker starts publishing ports. */
export function renderHostFirewallUnit(): string {
  return [
    "[Unit]",
    "Description=Runbook as Code host firewall (admin ssh, public ports, lockdown, blocked addresses)",
    "Before=docker.service",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=${HOST_FIREWALL_PATHS.apply}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

const heredoc = (path: string, mode: string, text: string, tag: string) =>
  [`tmp="$root${path}.new"`, `cat > "$tmp" <<'${tag}'`, text.replace(/\n$/, ""), tag, `chmod ${mode} "$tmp"`, `mv -f "$tmp" "$root${path}"`].join("\n");

/**
 * What the deploy step runs as root on the host (its stdin): writes the rules, the apply script and
 * the boot unit (each file replaced atomically), enables the unit where systemd runs, then applies.
 * `RUNBOOK_FIREWALL_ROOT` prefixes every path (tests install into a directory).
 */
export function renderHostFirewallInstallScript(spec: HostFirewallSpec): string {
  const v4 = renderHostFirewallRules(spec, 4);
  const v6 = renderHostFirewallRules(spec, 6);
  return [
    "#!/bin/sh",
    "# Installs and applies the Runbook as Code host firewall (rendered by the program; do not edit on the host).",
    "set -eu",
    'root="${RUNBOOK_FIREWALL_ROOT:-}"',
    "umask 022",
    `mkdir -p "$root${HOST_FIREWALL_PATHS.dir}" "$root$(dirname ${HOST_FIREWALL_PATHS.apply})" "$root$(dirname ${HOST_FIREWALL_PATHS.unit})"`,
    heredoc(`${HOST_FIREWALL_PATHS.dir}/rules.v4`, "644", v4, "RUNBOOK_RULES_V4"),
    heredoc(`${HOST_FIREWALL_PATHS.dir}/rules.v6`, "644", v6, "RUNBOOK_RULES_V6"),
    heredoc(HOST_FIREWALL_PATHS.apply, "755", renderHostFirewallApplyScript(), "RUNBOOK_APPLY"),
    heredoc(HOST_FIREWALL_PATHS.unit, "644", renderHostFirewallUnit(), "RUNBOOK_UNIT"),
    'if [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then',
    "  systemctl daemon-reload",
    "  systemctl enable runbook-firewall.service >/dev/null",
    "else",
    '  echo "runbook-firewall: no systemd here; the rules apply now, and again at the next pulumi up after a reboot" >&2',
    "fi",
    `RUNBOOK_FIREWALL_DIR="$root${HOST_FIREWALL_PATHS.dir}" sh "$root${HOST_FIREWALL_PATHS.apply}"`,
    "",
  ].join("\n");
}

/** The deploy step's command: the install script on stdin, run as root (directly, or with `sudo -n`). */
export const HOST_FIREWALL_COMMAND = 'if [ "$(id -u)" -eq 0 ]; then sh -s; else sudo -n sh -s; fi';
