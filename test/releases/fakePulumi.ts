/**
 * A stand-in for the Pulumi CLI, as the Automation API drives it: an executable named `pulumi`
 * on PATH that records every argv (one JSON line each) and answers what the Automation API reads:
 * `pulumi version` (checked against its minimum, automation/cmd.js `PulumiCommand.get`),
 * `stack output --json [--show-secrets]` (localWorkspace.js `stackOutputs`), `stack history --json`
 * (stack.js `info`, after `up`), `config get <key> --json` (localWorkspace.js `getConfig`: the CLI's
 * configValueJSON, an object's `value` as JSON text and its `objectValue`; a key the stack lacks
 * fails as the CLI does). `up` exits with FAKE_PULUMI_UP_EXIT and prints FAKE_PULUMI_UP_ERROR.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { tempDir } from "../tools/realTools";

const SCRIPT = `#!/usr/bin/env node
const fs = require("node:fs");
const argv = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_PULUMI_LOG, JSON.stringify(argv) + "\\n");
const is = (...words) => words.every((w, i) => argv[i] === w);
if (is("version")) process.stdout.write("v3.248.0\\n");
else if (is("stack", "output")) process.stdout.write(fs.readFileSync(process.env.FAKE_PULUMI_OUTPUTS, "utf8"));
else if (is("stack", "history")) process.stdout.write("[]\\n");
else if (is("config", "get") && !argv.includes("--path")) {
  const key = argv[2];
  const config = JSON.parse(fs.readFileSync(process.env.FAKE_PULUMI_CONFIG, "utf8"));
  if (!(key in config)) {
    process.stderr.write("error: configuration key '" + key + "' not found for stack '" + argv[argv.indexOf("--stack") + 1] + "'\\n");
    process.exit(255);
  }
  const v = config[key];
  const object = v !== null && typeof v === "object";
  process.stdout.write(JSON.stringify({ value: object ? JSON.stringify(v) : String(v), ...(object && { objectValue: v }), secret: false }) + "\\n");
}
else if (is("up")) {
  process.stdout.write("Updating (fake)\\n");
  const code = Number(process.env.FAKE_PULUMI_UP_EXIT || "0");
  if (code !== 0) process.stderr.write((process.env.FAKE_PULUMI_UP_ERROR || "error: update failed") + "\\n");
  process.exit(code);
}
`;

export interface FakePulumi {
  readonly dir: string;
  /** Every argv the CLI received, in order. */
  calls(): string[][];
  /** Sets the stack outputs `stack output --json` prints, what `up` does, and the config `config get` reads (full keys). */
  reset(outputs: Record<string, unknown>, up?: { exit: number; error?: string }, config?: Record<string, unknown>): void;
}

/** Installs the stand-in first on PATH (for this test worker) and returns its controls. */
export function installFakePulumi(): FakePulumi {
  const dir = tempDir("fake-pulumi");
  const bin = path.join(dir, "pulumi");
  fs.writeFileSync(bin, SCRIPT, { mode: 0o755 });
  const log = path.join(dir, "calls.jsonl");
  const outputs = path.join(dir, "outputs.json");
  const config = path.join(dir, "config.json");
  process.env["PATH"] = `${dir}${path.delimiter}${process.env["PATH"] ?? ""}`;
  process.env["FAKE_PULUMI_LOG"] = log;
  process.env["FAKE_PULUMI_OUTPUTS"] = outputs;
  process.env["FAKE_PULUMI_CONFIG"] = config;
  return {
    dir,
    calls: () =>
      fs.existsSync(log)
        ? fs
            .readFileSync(log, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as string[])
        : [],
    reset(out, up = { exit: 0 }, cfg = {}) {
      fs.rmSync(log, { force: true });
      fs.writeFileSync(outputs, JSON.stringify(out));
      fs.writeFileSync(config, JSON.stringify(cfg));
      process.env["FAKE_PULUMI_UP_EXIT"] = String(up.exit);
      process.env["FAKE_PULUMI_UP_ERROR"] = up.error ?? "";
    },
  };
}
