/**
 * What the real engine needs that the mock runtime never asked for: the pinned host key of an
 * ssh:// host, the public host name probes send, and CPU limits spelled the way Docker reads them
 * back. Each rule names the key it refuses.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { catalog } from "../../apps";
import { cpusProblem, formatCpus, nanoCpus, readBackCpus } from "../../config/dockerCpus";
import { fillEnv, parseStackConfig, type RawConfig } from "../../config/resolve";
import { problemsOf, rawStackConfig, stackSpec } from "../helpers";

type Apps = Record<string, Record<string, unknown>>;
const prod = () => structuredClone(rawStackConfig("prod")) as { apps: Apps } & Record<string, unknown>;

describe("host keys", () => {
  it("are required for an ssh:// host in prod, naming the key", () => {
    const cfg = prod();
    delete cfg.apps["lms"]!["hostKey"];
    expect(problemsOf(cfg)).toEqual([expect.stringMatching(/^runbook:apps\.lms\.hostKey: is required for an ssh:\/\/ host in prod/)]);
  });

  it("are optional in staging, and passed on where given", () => {
    expect(problemsOf(rawStackConfig("staging"))).toEqual([]);
    const lms = stackSpec("prod").apps.find((a) => a.id === "lms")!;
    expect(lms.host).toMatchObject({ kind: "ssh", host: "lms-prod.example.com", hostKey: expect.stringMatching(/^ssh-ed25519 AAAA[A-Za-z0-9+/]+$/) });
  });

  it.each([
    ["lms-prod.example.com ssh-ed25519 AAAAC3Nz", "must be one public host key"],
    ["ssh-dss AAAAB3NzaC1kc3M=", "must be one public host key"],
    ["ssh-ed25519", "must be one public host key"],
    ["ssh-ed25519 AAAA C3Nz", "must be one public host key"],
  ])("refuses %j", (hostKey, message) => {
    const cfg = prod();
    cfg.apps["lms"]!["hostKey"] = hostKey;
    expect(problemsOf(cfg)).toEqual([expect.stringContaining(`runbook:apps.lms.hostKey: ${message}`)]);
  });

  it("refuses a host key for the local Docker socket", () => {
    const cfg = prod();
    cfg.apps["lms"]!["host"] = "unix:///var/run/docker.sock";
    expect(problemsOf(cfg)).toEqual(["runbook:apps.lms.hostKey: applies to ssh:// hosts only; this app's host is the local Docker socket"]);
  });
});

describe("domain", () => {
  it("is required with TLS, and refused when it is not a host name", () => {
    const cfg = prod();
    delete cfg.apps["fdts"]!["domain"];
    cfg.apps["lms"]!["domain"] = "https://lms.example.com/";
    expect(problemsOf(cfg)).toEqual([
      "runbook:apps.fdts.domain: is required with proxy.tls: the certificate is issued for a name, and health probes must send it as the Host",
      "runbook:apps.lms.domain: must be a DNS host name such as app.example.com (no scheme, port or path)",
    ]);
  });

  it("defaults to localhost, and fills the LMS's ALLOWED_HOSTS and TLS settings per stack", () => {
    const staging = stackSpec("staging");
    expect(staging.apps.find((a) => a.id === "fdts")!.publicHost).toBe("localhost");
    expect(staging.apps.find((a) => a.id === "lms")!.backend.env).toMatchObject({ ALLOWED_HOSTS: "lms.staging.example.com", SECURE_SSL_REDIRECT: "true" });
    expect(stackSpec("prod").apps.find((a) => a.id === "lms")!.backend.env).toMatchObject({ ALLOWED_HOSTS: "lms.example.com", SECURE_SSL_REDIRECT: "true" });
    // Without TLS, no redirect to an https that is not there, and no cookie that only travels over it.
    const plain = structuredClone(rawStackConfig("staging")) as { apps: Apps } & Record<string, unknown>;
    delete (plain.apps["lms"]!["proxy"] as Record<string, unknown>)["tls"];
    const lms = parseStackConfig(plain as RawConfig).apps.find((a) => a.id === "lms")!;
    expect(lms.backend.env).toMatchObject({ SECURE_SSL_REDIRECT: "false", SESSION_COOKIE_SECURE: "false", CSRF_COOKIE_SECURE: "false" });
  });

  it("refuses a catalog placeholder it does not know", () => {
    expect(() => fillEnv({ X: "{{hostname}}" }, { domain: "a", tls: true })).toThrow("env X: unknown placeholder {{hostname}}; known are {{domain}} and {{tls}}");
  });
});

describe("CPU limits as Docker reads them back", () => {
  it.each([
    [1, "1.0"],
    [2, "2.0"],
    [0.5, "0.5"],
    [0.25, "0.25"],
    [1.5, "1.5"],
    [0.1, "0.1"],
    [0.125, "0.125"],
    [64, "64.0"],
  ])("sends %s as %j, the provider's nanoInt64ToDecimalString spelling", (cpus, spelled) => {
    expect(formatCpus(cpus)).toBe(spelled);
    expect(readBackCpus(nanoCpus(cpus)!)).toBe(spelled);
  });

  it("spells every CPU limit of the catalog so that it reads back unchanged", () => {
    const values = Object.values(catalog).flatMap((app) => [
      app.backend.limits.cpus,
      ...(app.frontend ? [app.frontend.limits.cpus] : []),
      ...(app.database.engine === "postgres" ? [app.database.limits.cpus] : []),
      ...(app.cache ? [app.cache.limits.cpus] : []),
      ...app.workers.map((w) => w.limits.cpus),
    ]);
    expect(values.length).toBeGreaterThan(10);
    for (const v of values) {
      expect(cpusProblem(v), String(v)).toBeUndefined();
      expect(readBackCpus(nanoCpus(Number(formatCpus(v)))!)).toBe(formatCpus(v));
    }
  });

  it("accepts a value only if its spelling reads back as itself and means the same limit (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6400 }), (hundredths) => {
        const cpus = hundredths / 100;
        const problem = cpusProblem(cpus);
        if (problem !== undefined) return;
        const sent = formatCpus(cpus);
        expect(readBackCpus(nanoCpus(Number(sent))!)).toBe(sent);
        expect(nanoCpus(Number(sent))).toBe(nanoCpus(cpus));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    [10, 'the Docker provider reads 10 back as "10."'],
    [0.05, "is read back by the Docker provider as 0.1, a different limit"],
    [1e-10, "must be a positive number with at most 9 decimals"],
  ])("refuses %s, naming the key", (cpus, message) => {
    const cfg = prod();
    (cfg.apps["lms"]!["backend"] as Record<string, unknown>)["limits"] = { cpus };
    expect(problemsOf(cfg)).toEqual([expect.stringContaining(`runbook:apps.lms.backend.limits.cpus: `)]);
    expect(problemsOf(cfg)[0]).toContain(message);
  });
});
