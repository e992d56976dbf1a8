/**
 * The LMS's Django stand-in (test/fixtures/django-stand-in) as "images": release N is release-1/
 * with release-2/ .. release-N/ copied over it, in a directory of its own. Commands of the catalog's
 * shape (`python manage.py ...`) run in an image with Debian's python3 (which has Django 3.2 and
 * psycopg2) as `python`, through a PATH shim: the catalog's commands are run as written.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../helpers";
import { requireTool } from "./realTools";

const FIXTURE = path.join(ROOT, "test/fixtures/django-stand-in");

export interface DjangoRun {
  readonly stdout: string;
  readonly ms: number;
}

export interface DjangoStandIn {
  /** The directory of release N's image, made on first use; `overlay` (`squashed`) adds release-N-<overlay>/. */
  image(release: 1 | 2 | 3, overlay?: string): string;
  /** Runs `argv` (`python manage.py ...`) in an image; throws with Django's stderr when it fails. */
  run(image: string, argv: readonly string[]): DjangoRun;
  /** The same, returning the exit status and stderr instead of throwing. */
  attempt(image: string, argv: readonly string[]): { status: number | null; stdout: string; stderr: string };
}

/** The stand-in in `work`, pointed at a PostgreSQL database on 127.0.0.1. */
export function djangoStandIn(work: string, db: { port: number; name: string; user: string }): DjangoStandIn {
  const python = requireTool("python3");
  const probe = spawnSync(python, ["-c", "import django, psycopg2; print(django.get_version())"], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`${python} has no Django or psycopg2: apt-get install python3-django python3-psycopg2 (scripts/install-test-tools.sh does)`);
  const shim = path.join(work, "bin");
  fs.mkdirSync(shim, { recursive: true });
  fs.writeFileSync(path.join(shim, "python"), `#!/bin/sh\nexec ${python} "$@"\n`, { mode: 0o755 });
  const env = {
    ...process.env,
    PATH: `${shim}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
    PYTHONDONTWRITEBYTECODE: "1",
    // Throwaway values made for this run; the server trusts connections on its own 127.0.0.1 port.
    SECRET_KEY: randomBytes(32).toString("hex"),
    DATABASE_HOST: "127.0.0.1",
    DATABASE_PORT: String(db.port),
    DATABASE_NAME: db.name,
    DATABASE_USER: db.user,
    DATABASE_PASSWORD: randomBytes(16).toString("hex"),
  };
  const attempt = (image: string, argv: readonly string[]) => {
    if (argv[0] !== "python" || argv[1] !== "manage.py") throw new Error(`not a manage.py command: ${argv.join(" ")}`);
    const res = spawnSync(argv[0], argv.slice(1), { cwd: image, env, encoding: "utf8", timeout: 120_000 });
    return { status: res.status, stdout: res.stdout, stderr: `${res.stderr}${res.error ? String(res.error) : ""}` };
  };
  return {
    image(release, overlay) {
      const name = overlay ? `release-${release}-${overlay}` : `release-${release}`;
      const dir = path.join(work, name);
      if (fs.existsSync(dir)) return dir;
      for (let r = 1; r <= release; r++) fs.cpSync(path.join(FIXTURE, `release-${r}`), dir, { recursive: true });
      if (overlay) fs.cpSync(path.join(FIXTURE, name), dir, { recursive: true });
      return dir;
    },
    run(image, argv) {
      const started = Date.now();
      const res = attempt(image, argv);
      if (res.status !== 0) throw new Error(`${argv.join(" ")} in ${path.basename(image)} failed (${res.status}): ${res.stderr}`);
      return { stdout: res.stdout, ms: Date.now() - started };
    },
    attempt,
  };
}
