/**
 * The proxy's TLS files in the backups (FairLens "Configuration Backup": "SSL certificates (if
 * applicable)"), run for real against a local S3 API: certbot's whole directory (renewal settings,
 * archive, the live links) or plain certificate files go into each backup, and a restore onto a host
 * without them puts them back before the proxy starts, links and key permissions as they were; a
 * file the host has is never replaced; a missing one is a warning, never a failed backup.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LETSENCRYPT_DIR, tlsBackupSettings } from "../../components/backups/backupJobs";
import { requireTool, tempDir } from "../tools/realTools";
import { installJobs, startS3, type S3Server } from "./servers";

let s3: S3Server;
let dir: string;
beforeAll(async () => {
  s3 = await startS3();
  dir = tempDir("tls-backup");
}, 120_000);
afterAll(async () => {
  await s3?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function database(name: string): string {
  const db = path.join(dir, name, "app.db");
  fs.mkdirSync(path.dirname(db), { recursive: true });
  spawnSync(requireTool("sqlite3"), [db, "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2);"]);
  return db;
}

/** certbot's layout: archive/<name>/fullchain1.pem, live/<name>/fullchain.pem -> ../../archive/..., renewal/<name>.conf. */
function letsencrypt(root: string): void {
  fs.mkdirSync(path.join(root, "archive", "app"), { recursive: true });
  fs.mkdirSync(path.join(root, "live", "app"), { recursive: true });
  fs.mkdirSync(path.join(root, "renewal"), { recursive: true });
  fs.writeFileSync(path.join(root, "archive", "app", "fullchain1.pem"), "-----BEGIN CERTIFICATE-----\nchain\n-----END CERTIFICATE-----\n");
  fs.writeFileSync(path.join(root, "archive", "app", "privkey1.pem"), "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n", { mode: 0o600 });
  fs.symlinkSync("../../archive/app/fullchain1.pem", path.join(root, "live", "app", "fullchain.pem"));
  fs.symlinkSync("../../archive/app/privkey1.pem", path.join(root, "live", "app", "privkey.pem"));
  fs.writeFileSync(path.join(root, "renewal", "app.conf"), "archive_dir = /etc/letsencrypt/archive/app\n");
}

const idOf = (stdout: string) => /backup-key: \S+\/(\S+)\/$/m.exec(stdout)![1]!;

describe("the proxy's TLS files in the backups, against a local S3 API", () => {
  it("keeps certbot's directory in each backup and puts it back, links and the key's permissions intact, on a host without it", () => {
    const root = path.join(dir, "le-host-a", "letsencrypt");
    letsencrypt(root);
    const db = database("host-a");
    const jobs = installJobs({ appId: "tls-a", engine: "sqlite", uploads: false, configDir: "/etc/runbook-backup/tls-a" }, s3, { SQLITE_PATH: db, TLS_PATHS: root });
    const backup = jobs.run("backup", ["--reason", "scheduled"]);
    expect(backup.status, backup.stderr).toBe(0);
    const id = idOf(backup.stdout);
    expect(fs.readFileSync(path.join(jobs.localDir, id, "manifest.txt"), "utf8")).toMatch(/^file\ttls\.tar\.gz\t[0-9a-f]{64}\t\d+$/m);
    expect(jobs.run("verify", ["--id", id]).status).toBe(0);

    // The host is rebuilt: no certificates (only the empty directory Docker makes for a missing bind
    // mount source), an empty database file.
    fs.rmSync(path.dirname(root), { recursive: true });
    fs.mkdirSync(root, { recursive: true });
    fs.rmSync(db);
    const restore = jobs.run("restore", ["--id", id]);
    expect(restore.status, restore.stderr).toBe(0);
    expect(restore.stderr).toContain(`TLS: restored ${root}`);
    const live = path.join(root, "live", "app", "fullchain.pem");
    expect(fs.lstatSync(live).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(live)).toBe("../../archive/app/fullchain1.pem");
    expect(fs.readFileSync(live, "utf8")).toContain("chain");
    expect(fs.statSync(path.join(root, "archive", "app", "privkey1.pem")).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(root, "renewal", "app.conf"), "utf8")).toBe("archive_dir = /etc/letsencrypt/archive/app\n");
  });

  it("never replaces a certificate the host has (a newer renewal), and restores only what is missing", () => {
    const cert = path.join(dir, "host-b", "tls", "cert.pem");
    const key = path.join(dir, "host-b", "tls", "key.pem");
    fs.mkdirSync(path.dirname(cert), { recursive: true });
    // A certificate kept elsewhere and linked in: the backup reads through the link.
    const real = path.join(dir, "host-b", "real-cert.pem");
    fs.writeFileSync(real, "old certificate\n");
    fs.symlinkSync(real, cert);
    fs.writeFileSync(key, "old key\n", { mode: 0o600 });
    const db = database("host-b");
    const settings = Object.fromEntries(Object.entries(tlsBackupSettings({ certificateFile: cert, keyFile: key })).map(([k, v]) => [k, String(v)]));
    expect(settings).toEqual({ TLS_PATHS: `${cert} ${key}`, TLS_DEREFERENCE: "1" });
    const jobs = installJobs({ appId: "tls-b", engine: "sqlite", uploads: false, configDir: "/etc/runbook-backup/tls-b" }, s3, { SQLITE_PATH: db, ...settings });
    const backup = jobs.run("backup", ["--reason", "scheduled"]);
    expect(backup.status, backup.stderr).toBe(0);
    const id = idOf(backup.stdout);

    // The certificate was renewed since; the key file was lost.
    fs.rmSync(cert);
    fs.writeFileSync(cert, "renewed certificate\n");
    fs.rmSync(key);
    fs.rmSync(db);
    const restore = jobs.run("restore", ["--id", id]);
    expect(restore.status, restore.stderr).toBe(0);
    expect(fs.readFileSync(cert, "utf8")).toBe("renewed certificate\n");
    expect(restore.stderr).toContain(`TLS: ${cert} is on this host: kept`);
    expect(fs.readFileSync(key, "utf8")).toBe("old key\n");
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);

    // Read through the link: what was backed up is the certificate itself, not a link to a file gone.
    fs.rmSync(cert);
    fs.rmSync(real);
    fs.rmSync(db);
    expect(jobs.run("restore", ["--id", id]).status).toBe(0);
    expect(fs.lstatSync(cert).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(cert, "utf8")).toBe("old certificate\n");
  });

  it("backs up the database when a TLS file is missing, with a warning, and no TLS archive", () => {
    const db = database("host-c");
    const missing = path.join(dir, "host-c", "nowhere", "letsencrypt");
    const jobs = installJobs({ appId: "tls-c", engine: "sqlite", uploads: false, configDir: "/etc/runbook-backup/tls-c" }, s3, { SQLITE_PATH: db, TLS_PATHS: missing });
    const backup = jobs.run("backup", ["--reason", "scheduled"]);
    expect(backup.status, backup.stderr).toBe(0);
    expect(backup.stderr).toContain(`warning: ${missing} is missing: not in this backup`);
    expect(fs.existsSync(path.join(jobs.localDir, idOf(backup.stdout), "tls.tar.gz"))).toBe(false);
  });

  it("takes certbot's whole directory where both files are Let's Encrypt's, else the two files through their links", () => {
    expect(tlsBackupSettings({ certificateFile: "/etc/letsencrypt/live/lms/fullchain.pem", keyFile: "/etc/letsencrypt/live/lms/privkey.pem" })).toEqual({ TLS_PATHS: LETSENCRYPT_DIR });
    expect(tlsBackupSettings({ certificateFile: "/etc/ssl/app.pem", keyFile: "/etc/ssl/private/app.key" })).toEqual({ TLS_PATHS: "/etc/ssl/app.pem /etc/ssl/private/app.key", TLS_DEREFERENCE: 1 });
    expect(tlsBackupSettings(undefined)).toEqual({});
    expect(() => tlsBackupSettings({ certificateFile: "/etc/ssl/my cert.pem", keyFile: "/k" })).toThrow("must be absolute, without spaces");
  });
});
