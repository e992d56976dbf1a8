/**
 * Preloaded (`node --require`) into the Pulumi nodejs language host (`@pulumi/pulumi/cmd/run`),
 * before the host loads the project. It points the SDK at Pulumi's mock monitor, so the host runs
 * the program exactly as `pulumi up` would (its own require of the project, its ts-node, its
 * config from PULUMI_CONFIG), and records what the program registers in the file LH_OUT.
 * Plain JavaScript on purpose: no TypeScript loader may be in place before the host's own.
 */
"use strict";
const fs = require("node:fs");
const { createHash } = require("node:crypto");

const root = process.env.LH_ROOT;
const out = process.env.LH_OUT;
const load = (m) => require(require.resolve(m, { paths: [root] }));
const pulumi = load("@pulumi/pulumi");
const { MockMonitor } = load("@pulumi/pulumi/runtime/mocks");

const resources = [];
let stackOutputs;
const register = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = function (req, callback) {
  resources.push({ type: req.getType(), name: req.getName(), parent: req.getParent() || undefined });
  return register.call(this, req, callback);
};
const registerOutputs = MockMonitor.prototype.registerResourceOutputs;
MockMonitor.prototype.registerResourceOutputs = function (req, callback) {
  if (req.getUrn().includes("::pulumi:pulumi:Stack::")) stackOutputs = req.getOutputs()?.toJavaScript();
  return registerOutputs.call(this, req, callback);
};

const digest = (s) => `sha256:${createHash("sha256").update(String(s)).digest("hex")}`;
pulumi.runtime.setMocks(
  {
    newResource: ({ type, name, inputs }) => {
      const state = { ...inputs };
      if (type === "docker:index/remoteImage:RemoteImage") state.imageId = digest(inputs.name);
      if (type.startsWith("docker:index/")) state.name = inputs.name ?? `${name}-${digest(name).slice(7, 14)}`;
      if (type === "aws:sns/topic:Topic") state.arn = `arn:aws:sns:eu-west-1:123456789012:${name}`;
      if (type === "random:index/randomPassword:RandomPassword") state.result = "x".repeat(Number(inputs.length ?? 16));
      if (type === "random:index/randomBytes:RandomBytes") {
        const bytes = Buffer.alloc(Number(inputs.length ?? 32));
        Object.assign(state, { base64: bytes.toString("base64"), hex: bytes.toString("hex") });
      }
      return { id: `${name}-id`, state };
    },
    call: ({ token }) => {
      throw new Error(`no mock for ${token}`);
    },
  },
  process.env.PULUMI_NODEJS_PROJECT,
  process.env.PULUMI_NODEJS_STACK,
  false,
);

process.on("exit", (code) => {
  fs.writeFileSync(out, JSON.stringify({ code, resources, stackOutputs }));
});
