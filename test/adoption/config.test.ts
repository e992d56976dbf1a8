/** `apps.<id>.adopt`: shape, cross-field rules with exact key paths, and what it resolves to. */
import { describe, expect, it } from "vitest";
import { catalog } from "../../apps";
import { problemsOf, rawStackConfig, stackSpec } from "../helpers";
import { adoptedStack, composeProject, composeVolume } from "./fixtures";

type Raw = Record<string, unknown> & { apps: Record<string, Record<string, unknown>> };
const prod = () => structuredClone(rawStackConfig("prod")) as Raw;
const P = "runbook:apps";

function prodAdopting(id: string, adopt: unknown, extra: Record<string, unknown> = {}): Raw {
  const raw = prod();
  raw.apps[id] = { ...raw.apps[id], adopt, ...extra };
  return raw;
}

describe("apps.<id>.adopt", () => {
  it("is off unless a stack sets it (the committed stacks adopt nothing)", () => {
    for (const stack of ["prod", "staging"]) for (const app of stackSpec(stack).apps) expect(app.adoption, `${stack}/${app.id}`).toBeUndefined();
  });

  it("resolves the project and every state volume of every app to the existing names", () => {
    for (const app of [...adoptedStack("prod").apps, ...adoptedStack("staging").apps]) {
      expect(app.adoption!.project).toBe(composeProject(app.id));
      for (const [key, name] of Object.entries(app.adoption!.volumes)) expect(name).toBe(composeVolume(app.id, key));
    }
    expect(Object.keys(adoptedStack("prod").apps.find((a) => a.id === "lms")!.adoption!.volumes).sort()).toEqual(["pgdata", "redis-data"]);
  });

  it("requires every state volume of the app, naming each missing one", () => {
    expect(problemsOf(prodAdopting("lms", { project: "lms", volumes: { pgdata: "lms_pgdata" } }))).toEqual([
      `${P}.lms.adopt.volumes.redis-data: is required: name the existing Docker volume that holds ${catalog["lms"]!.displayName}'s redis-data (docker volume ls); left out, it would start empty and the cut-over would stop the containers holding the data`,
    ]);
  });

  it("refuses a volume the app does not have, listing the ones it has", () => {
    expect(problemsOf(prodAdopting("fdts", { project: "fdts", volumes: { data: "fdts_data", uploads: "fdts_uploads", pgdata: "x_pgdata" } }))).toEqual([
      `${P}.fdts.adopt.volumes.pgdata: is not a state volume of ${catalog["fdts"]!.displayName}; its state volumes are data, uploads`,
    ]);
  });

  it("refuses project and volume names Docker would refuse, and one volume adopted twice on a host", () => {
    const fdtsVolumes = Object.fromEntries(catalog["fdts"]!.backend.volumes.map((v) => [v.name, "shared_volume"]));
    expect(problemsOf(prodAdopting("fdts", { project: "FDTS prod", volumes: fdtsVolumes }))).toEqual([
      `${P}.fdts.adopt.project: must be a compose project name: lowercase letters, digits, '-' and '_', starting with a letter or digit`,
      ...Object.keys(fdtsVolumes).slice(1).map((k) => `${P}.fdts.adopt.volumes.${k}: adopts the Docker volume shared_volume that apps.fdts.adopt.volumes.${Object.keys(fdtsVolumes)[0]} already adopts on the same host`),
    ]);
    expect(problemsOf(prodAdopting("reference", { project: "ref", volumes: { pgdata: "-bad name" } }))).toEqual([
      `${P}.reference.adopt.volumes.pgdata: must be a Docker volume name: letters, digits, '_', '.' and '-', starting with a letter or digit`,
    ]);
  });

  it("refuses adoption onto a host the stack creates", () => {
    const raw = prodAdopting("reference", { project: "ref", volumes: { pgdata: "ref_pgdata" } });
    const aws = { instanceType: "t3.medium", amiId: "ami-0123456789abcdef0", vpcId: "vpc-0123456789abcdef0", subnetId: "subnet-0123456789abcdef0", availabilityZone: "eu-west-1a", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMyXIam2b6Q2WMM3ROH9d7UvOVyt/0WavG4yzuCCwtKw"] };
    const app: Record<string, unknown> = { ...raw.apps["reference"]!, aws };
    delete app["host"];
    delete app["hostKey"];
    raw.apps["reference"] = app;
    expect(problemsOf(raw)).toContain(
      `${P}.reference.adopt: cannot adopt onto a host the stack creates (apps.<id>.aws): a new machine runs no docker-compose project; adopt on the existing host, then move`,
    );
  });

  it("refuses unknown keys under adopt", () => {
    expect(problemsOf(prodAdopting("reference", { project: "ref", volumes: { pgdata: "ref_pgdata" }, networks: {} }))).toEqual([`${P}.reference.adopt.networks: unknown key`]);
  });
});
