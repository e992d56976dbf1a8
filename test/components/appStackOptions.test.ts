/**
 * AppStack as a component: what any caller can do with it (the pre-deploy seam, two instances in
 * one stack, the local Docker socket) and the arguments it refuses. Every catalog app is used.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AppSecrets, AppStack } from "../../components";
import { runUnderMocks } from "../../plan/mockRuntime";
import { inputs, named, stackSpec } from "../helpers";

const staging = stackSpec("staging");

describe.each(staging.apps.map((a) => [a.id, a] as const))("AppStack of %s", (id, app) => {
  it("orders its first deploy step after the steps given to the pre-deploy seam (beforeMigrations)", async () => {
    const run = await runUnderMocks(staging, `seam-${id}`, () => {
      const backup = new pulumi.ComponentResource("runbook:test:PreDeployBackup", `${id}-pre-deploy-backup`);
      new command.local.Command(`${id}-pre-deploy-backup-dump`, { create: "true" }, { parent: backup });
      new AppStack(id, { app, secrets: new AppSecrets(`${id}-secrets`, { app }), beforeMigrations: [backup] });
    });
    const dump = named(run.resources, `${id}-pre-deploy-backup-dump`);
    const gated = run.resources.filter((x) => [`${id}-migrate`, `${id}-release-task`].includes(x.name) || /-(backend-\d+|worker-.+)$/.test(x.name));
    expect(gated.length).toBeGreaterThanOrEqual(app.backend.replicas);
    for (const r of gated) expect(r.dependencies, r.name).toContain(dump.urn);
  });

  it("hands the pre-deploy seam the state services, and gates the release on what it returns", async () => {
    let seen: string[] = [];
    const run = await runUnderMocks(staging, `predeploy-${id}`, () => {
      new AppStack(id, {
        app,
        secrets: new AppSecrets(`${id}-secrets`, { app }),
        preDeploy: (state) => {
          seen = [...(state.database ? ["database"] : []), ...Object.keys(state.volumes)];
          return [new command.local.Command(`${id}-restore`, { create: "true" }, { dependsOn: state.database ? [state.database] : [] })];
        },
      });
    });
    expect(seen).toEqual([...(app.database.engine === "postgres" ? ["database"] : []), ...app.backend.volumes.map((v) => v.name), ...(app.database.engine === "postgres" ? ["pgdata"] : []), ...(app.cache?.persistent ? ["redis-data"] : [])]);
    const restore = named(run.resources, `${id}-restore`);
    for (const r of run.resources.filter((x) => /-(backend-\d+|worker-.+|migrate|release-task)$/.test(x.name))) expect(r.dependencies, r.name).toContain(restore.urn);
  });

  it("lets two instances live in one stack without a name clash", async () => {
    const run = await runUnderMocks(staging, `twins-${id}`, () => {
      for (const name of [`${id}-blue`, `${id}-green`]) new AppStack(name, { app, secrets: new AppSecrets(`${name}-secrets`, { app }) });
    });
    const names = run.resources.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => n.startsWith(`${id}-blue-`)).length).toBe(names.filter((n) => n.startsWith(`${id}-green-`)).length);
  });

  it("runs every deploy step locally, with DOCKER_HOST, on the local Docker socket", async () => {
    const local = { ...app, host: { kind: "local" as const, dockerHost: "unix:///var/run/docker.sock" } };
    const run = await runUnderMocks(staging, `local-${id}`, () => new AppStack(id, { app: local, secrets: new AppSecrets(`${id}-secrets`, { app: local }) }));
    const steps = run.resources.filter((r) => r.type.startsWith("command:"));
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (const r of steps) {
      expect(r.type, r.name).toBe("command:local:Command");
      expect(inputs(r)["environment"], r.name).toEqual({ DOCKER_HOST: "unix:///var/run/docker.sock" });
    }
    expect(inputs(named(run.resources, `${id}-docker`))["host"]).toBe("unix:///var/run/docker.sock");
  });
});

describe("AppStack arguments", () => {
  const fdts = staging.apps.find((a) => a.id === "fdts")!;
  const refuse = (name: string, build: () => void) => runUnderMocks(staging, name, build);

  it("refuses bad component arguments with a message naming the argument, before any resource", async () => {
    await expect(refuse("bad", () => new AppStack("fdts", { app: { ...fdts, backend: { ...fdts.backend, replicas: 0 } }, secrets: new AppSecrets("fdts-secrets", { app: fdts }) }))).rejects.toThrow(
      "`app.backend.replicas` must be a whole number of at least 1 (got 0)",
    );
    await expect(
      refuse("bad2", () => new AppStack("fdts", { app: { ...fdts, backend: { ...fdts.backend, env: { ...fdts.backend.env, JWT_SECRET: "oops" } } }, secrets: new AppSecrets("fdts-secrets", { app: fdts }) })),
    ).rejects.toThrow("`app.backend.env.JWT_SECRET` is a secret variable: it must not be set as plain environment");
    const handwork = staging.apps.find((a) => a.id === "handwork")!;
    const withKey = { ...handwork, externalSecrets: { STRIPE_SECRET_KEY: "line one\nline two" } };
    const multiLine = refuse("bad3", () => new AppStack("handwork", { app: withKey, secrets: new AppSecrets("handwork-secrets", { app: withKey }) }));
    await expect(multiLine).rejects.toThrow("`STRIPE_SECRET_KEY` of handwork spans several lines, which a docker env file cannot carry; give it base64-encoded");
    await expect(multiLine).rejects.not.toThrow("line one");
  });

  it("refuses a generated secret with less than 32 bytes of randomness", async () => {
    const weak = { ...fdts, backend: { ...fdts.backend, secretEnv: [{ name: "JWT_SECRET", source: "generated" as const, format: { encoding: "hex" as const, bytes: 16 } }] } };
    await expect(refuse("weak", () => new AppSecrets("fdts-secrets", { app: weak }))).rejects.toThrow(
      '`app.backend.secretEnv`: JWT_SECRET must carry at least 32 bytes of randomness (got {"encoding":"hex","bytes":16})',
    );
  });
});
