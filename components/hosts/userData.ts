/**
 * The user data of a host the stack creates, as pure functions: a cloud-config document (written
 * with the `yaml` package) and the setup script it runs once, at first boot.
 *
 * Order on first boot (cloud-init's stages): `ssh_keys` installs the stack's host key before sshd
 * first answers (so the first connection already sees the pinned key), `users` creates the deploy
 * user, `write_files` writes the setup script, and `runcmd` runs it in the final stage: the data
 * volume is mounted on /var/lib/docker before Docker is installed, so Docker's volumes live on it.
 *
 * The private host key is in the user data. User data is readable by whoever may call
 * ec2:DescribeInstanceAttribute on the instance and, from inside, through the instance metadata
 * service. IMDSv2 is required with a hop limit of 1, so containers (one network hop further) cannot
 * read it; root on the host can, and can read /etc/ssh anyway. The key is a Pulumi secret in the
 * state. What a reader gains: the ability to impersonate this host to the deployer, which also
 * needs the network path to the deployer.
 */
import { stringify } from "yaml";
import { shellQuote } from "../shared/shell";

export interface UserDataSpec {
  /** The host's ssh key pair, OpenSSH format (the private key is a secret). */
  readonly hostKey: { readonly privateOpenssh: string; readonly publicOpenssh: string };
  /** The deploy user, in the docker group. */
  readonly user: string;
  readonly authorizedKeys: readonly string[];
  /** The EBS data volume (`vol-...`), mounted on /var/lib/docker. */
  readonly dataVolumeId: string;
  /** The device name the volume is attached as (`/dev/sdf`). */
  readonly dataDeviceName: string;
  /** Distribution packages to install (hostPackages.ts: the base, and what the app's jobs call). */
  readonly packages: readonly string[];
}

export const HOST_PATHS = {
  setup: "/var/lib/runbook/setup.sh",
  ready: "/var/lib/runbook/ready",
  dataMount: "/var/lib/docker",
} as const;

/** How long the setup script waits for the data volume to be attached. */
export const DATA_VOLUME_WAIT_SECONDS = 600;

function validate(spec: UserDataSpec): void {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(spec.user)) throw new Error(`\`user\` must be a Unix user name (got ${spec.user})`);
  if (!/^vol-[0-9a-f]{8,17}$/.test(spec.dataVolumeId)) throw new Error(`\`dataVolumeId\` must be an EBS volume id (got ${spec.dataVolumeId})`);
  if (!/^\/dev\/(sd|xvd)[f-p]$/.test(spec.dataDeviceName)) throw new Error(`\`dataDeviceName\` must be /dev/sdf to /dev/sdp (got ${spec.dataDeviceName})`);
  if (!spec.hostKey.publicOpenssh.startsWith("ssh-ed25519 ")) throw new Error("`hostKey.publicOpenssh` must be an ssh-ed25519 key");
  if (!spec.hostKey.privateOpenssh.includes("BEGIN OPENSSH PRIVATE KEY")) throw new Error("`hostKey.privateOpenssh` must be an OpenSSH private key");
  if (spec.authorizedKeys.length === 0) throw new Error("`authorizedKeys` must list at least one key");
  validatePackages(spec.packages);
}

function validatePackages(packages: readonly string[]): void {
  for (const p of packages) if (!/^[a-z0-9][a-z0-9+.-]+$/.test(p)) throw new Error(`\`packages\` must be Debian package names (got ${p})`);
  if (!packages.includes("docker.io")) throw new Error("`packages` must include docker.io");
}

/** The script cloud-init runs once: data volume, Docker and the jobs' tools, unattended upgrades, sshd settings. */
export function renderHostSetupScript(spec: Pick<UserDataSpec, "user" | "dataVolumeId" | "dataDeviceName" | "packages">): string {
  validatePackages(spec.packages);
  const nvmeSerial = spec.dataVolumeId.replace("-", "");
  const xenDevice = spec.dataDeviceName.replace("/dev/sd", "/dev/xvd");
  return `#!/bin/sh
# Prepares a Runbook as Code Docker host. Rendered by the program; cloud-init runs it once.
set -eu
log() { echo "runbook-setup: $*"; }

# 1. The data volume, on /var/lib/docker before Docker exists. Nitro instances name it by its id
#    (nvme serial), Xen ones by the attachment's device name.
dev=""
waited=0
while [ -z "$dev" ]; do
  for candidate in /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${nvmeSerial} ${xenDevice} ${spec.dataDeviceName}; do
    if [ -b "$candidate" ]; then dev="$candidate"; break; fi
  done
  if [ -z "$dev" ]; then
    if [ "$waited" -ge ${DATA_VOLUME_WAIT_SECONDS} ]; then log "data volume ${spec.dataVolumeId} not attached after ${DATA_VOLUME_WAIT_SECONDS} s"; exit 1; fi
    sleep 5
    waited=$((waited + 5))
  fi
done
# A volume that already holds a file system (a replaced instance, a restored snapshot) keeps it.
if ! blkid "$dev" >/dev/null 2>&1; then
  log "formatting $dev (new, empty volume)"
  mkfs.ext4 -q -L runbook-data "$dev"
fi
uuid=$(blkid -s UUID -o value "$dev")
mkdir -p ${HOST_PATHS.dataMount}
if ! grep -q "UUID=$uuid" /etc/fstab; then
  echo "UUID=$uuid ${HOST_PATHS.dataMount} ext4 defaults,nofail 0 2" >> /etc/fstab
fi
mountpoint -q ${HOST_PATHS.dataMount} || mount ${HOST_PATHS.dataMount}

# 2. Docker, what the app's jobs call on the host, and unattended security upgrades, from the
#    distribution (components/hosts/hostPackages.ts says which and why).
if ! command -v apt-get >/dev/null 2>&1; then log "needs a Debian or Ubuntu AMI (apt-get)"; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends ${spec.packages.join(" ")}
cat > /etc/apt/apt.conf.d/20auto-upgrades <<'EOF'
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
EOF
systemctl enable --now docker
usermod -aG docker ${shellQuote(spec.user)}

# 3. sshd: only the stack's host key, keys only, no root.
cat > /etc/ssh/sshd_config.d/50-runbook.conf <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
EOF
systemctl reload ssh 2>/dev/null || systemctl reload sshd

mkdir -p "$(dirname ${HOST_PATHS.ready})"
touch ${HOST_PATHS.ready}
log "ready"
`;
}

/** The instance's user data: a cloud-config document. Holds the private host key: a secret. */
export function renderUserData(spec: UserDataSpec): string {
  validate(spec);
  const doc = {
    // The stack's key only: no generated keys, none kept from the image.
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: { ed25519_private: `${spec.hostKey.privateOpenssh.trim()}\n`, ed25519_public: spec.hostKey.publicOpenssh.trim() },
    ssh_pwauth: false,
    disable_root: true,
    groups: ["docker"],
    // Password-less sudo: the backups and maintenance install steps and the jobs run as root
    // (`sudo -n`). It gives nothing the docker group does not: docker is root on the host.
    users: [{ name: spec.user, groups: "docker", shell: "/bin/bash", lock_passwd: true, sudo: "ALL=(ALL) NOPASSWD:ALL", ssh_authorized_keys: [...spec.authorizedKeys] }],
    write_files: [{ path: HOST_PATHS.setup, permissions: "0700", owner: "root:root", content: renderHostSetupScript(spec) }],
    runcmd: [["sh", HOST_PATHS.setup]],
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}

/** What the readiness step runs over ssh: waits for cloud-init, then checks the setup finished. */
export const HOST_READY_COMMAND = `cloud-init status --wait >/dev/null 2>&1 || true; if [ ! -f ${HOST_PATHS.ready} ]; then cloud-init status --long; echo "the host's setup did not finish: see /var/log/cloud-init-output.log" >&2; exit 1; fi`;
