/** The user data of a created host: a cloud-config document, parsed back with the yaml package. */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { hostPackages } from "../../components/hosts/hostPackages";
import { HOST_PATHS, renderHostSetupScript, renderUserData, type UserDataSpec } from "../../components/hosts/userData";
import type { AppSpec } from "../../config/spec";
import { stackSpec } from "../helpers";

const spec: UserDataSpec = {
  hostKey: {
    privateOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n",
    publicOpenssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJl0EPPx/2ItuwpX+EKsF0GxH/x7Z/+V3JRm7SEp89vD",
  },
  user: "deploy",
  authorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmVJy3az1P8jzY7Xlte1DIF8tUOF2zKVafkQTtPCxVZ ci"],
  dataVolumeId: "vol-0123456789abcdef0",
  dataDeviceName: "/dev/sdf",
  packages: ["docker.io", "curl", "unattended-upgrades"],
};

describe("user data of a created host", () => {
  const text = renderUserData(spec);
  const doc = parse(text) as Record<string, unknown>;

  it("is a cloud-config document within EC2's 16 KiB", () => {
    expect(text.split("\n")[0]).toBe("#cloud-config");
    expect(Buffer.byteLength(text)).toBeLessThan(16 * 1024);
  });

  it("installs exactly the stack's host key and generates none", () => {
    expect(doc["ssh_keys"]).toEqual({ ed25519_private: spec.hostKey.privateOpenssh, ed25519_public: spec.hostKey.publicOpenssh });
    expect(doc["ssh_deletekeys"]).toBe(true);
    expect(doc["ssh_genkeytypes"]).toEqual([]);
    expect(doc["ssh_pwauth"]).toBe(false);
    expect(doc["disable_root"]).toBe(true);
  });

  it("makes the deploy user in the docker group, keys only", () => {
    expect(doc["groups"]).toEqual(["docker"]);
    // Password-less sudo: the install steps and jobs run as root (`sudo -n`); docker is root anyway.
    expect(doc["users"]).toEqual([{ name: "deploy", groups: "docker", shell: "/bin/bash", lock_passwd: true, sudo: "ALL=(ALL) NOPASSWD:ALL", ssh_authorized_keys: spec.authorizedKeys }]);
  });

  it("runs the setup script once: data volume on /var/lib/docker before Docker, then unattended upgrades and sshd settings", () => {
    expect(doc["write_files"]).toEqual([{ path: HOST_PATHS.setup, permissions: "0700", owner: "root:root", content: renderHostSetupScript(spec) }]);
    expect(doc["runcmd"]).toEqual([["sh", HOST_PATHS.setup]]);
    const script = renderHostSetupScript(spec);
    const order = ["nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0", "mkfs.ext4", "mount /var/lib/docker", "apt-get install -y -q --no-install-recommends docker.io curl unattended-upgrades", 'APT::Periodic::Unattended-Upgrade "1";', "PasswordAuthentication no", "touch /var/lib/runbook/ready"];
    const positions = order.map((s) => script.indexOf(s));
    expect(positions.every((p) => p >= 0), JSON.stringify(positions)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // A volume with a file system is never formatted again.
    expect(script).toMatch(/if ! blkid "\$dev" >\/dev\/null 2>&1; then\n[^\n]*\n\s+mkfs\.ext4/);
  });

  it.each([
    ["a user name with a space", { user: "de ploy" }, "`user` must be a Unix user name (got de ploy)"],
    ["a volume id that is not one", { dataVolumeId: "data" }, "`dataVolumeId` must be an EBS volume id (got data)"],
    ["a root device", { dataDeviceName: "/dev/sda1" }, "`dataDeviceName` must be /dev/sdf to /dev/sdp (got /dev/sda1)"],
    ["no authorized key", { authorizedKeys: [] }, "`authorizedKeys` must list at least one key"],
    ["a package name with shell in it", { packages: ["docker.io", "sqlite3; rm -rf /"] }, "`packages` must be Debian package names (got sqlite3; rm -rf /)"],
    ["no Docker", { packages: ["curl"] }, "`packages` must include docker.io"],
  ])("refuses %s", (_name, change, message) => {
    expect(() => renderUserData({ ...spec, ...change })).toThrow(message);
  });
});

/** The packages the setup script of `app`'s host installs, read back from the rendered user data. */
function installed(app: AppSpec): string[] {
  const doc = parse(renderUserData({ ...spec, packages: hostPackages(app).map((p) => p.name) })) as { write_files: { content: string }[] };
  const line = doc.write_files[0]!.content.split("\n").filter((l) => l.startsWith("apt-get install "));
  expect(line).toHaveLength(1);
  return line[0]!.replace("apt-get install -y -q --no-install-recommends ", "").split(" ");
}

describe("what a created host installs, per app", () => {
  const apps = ["prod", "staging"].flatMap((s) => stackSpec(s).apps.map((a) => [`${s}/${a.id}`, a] as const));
  it.each(apps)("%s: Docker, curl, sudo, the backup jobs' aws CLI and openssl; sqlite3 only for SQLite; certbot only where TLS renewal runs", (_, app) => {
    const sqlite = app.database.engine === "sqlite";
    const renews = app.proxy.tls !== undefined && app.maintenance.enabled;
    expect(installed(app)).toEqual(["docker.io", "curl", "sudo", "unattended-upgrades", "awscli", "openssl", ...(sqlite ? ["sqlite3"] : []), ...(renews ? ["certbot"] : [])]);
  });

  it("follows the app: no certbot without TLS or with maintenance off, sqlite3 only with a SQLite database", () => {
    const all = stackSpec("prod").apps;
    const tlsApp = all.find((a) => a.proxy.tls && a.maintenance.enabled)!;
    const pg = all.find((a) => a.database.engine === "postgres")!;
    const sq = all.find((a) => a.database.engine === "sqlite")!;
    expect(installed(tlsApp)).toContain("certbot");
    expect(installed({ ...tlsApp, proxy: { ...tlsApp.proxy, tls: undefined } })).not.toContain("certbot");
    expect(installed({ ...tlsApp, maintenance: { ...tlsApp.maintenance, enabled: false } })).not.toContain("certbot");
    // Not for Grafana's backup either: it pauses Grafana to copy grafana.db where sqlite3 is missing, and a
    // package added to a created host's user data would replace its instance.
    expect(installed(pg)).not.toContain("sqlite3");
    expect(installed(sq)).toContain("sqlite3");
  });
});
