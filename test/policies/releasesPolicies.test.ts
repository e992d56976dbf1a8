import { describe, expect, it } from "vitest";
import * as releases from "../../policies/releases";
import { runUnderMocks } from "../../plan/mockRuntime";
import { stackSpec } from "../helpers";
import { check } from "./harness";

describe("releases-image-kept-locally", () => {
  const p = releases.imageKeptLocally;
  const image = (props: Record<string, unknown>) => ({ type: "docker:index/remoteImage:RemoteImage", name: "lms-backend-image", props: { name: "ghcr.io/lms/web:1.4.0", ...props } });
  it("accepts an image kept on the host", async () => expect(await check(p, image({ keepLocally: true }))).toEqual([]));
  it.each([[{ keepLocally: false }], [{}]])("refuses an image the provider would remove on replacement (%j)", async (props) => {
    expect(await check(p, image(props))).toEqual([
      "Image ghcr.io/lms/web:1.4.0 is removed from the host when it is replaced (keepLocally is not true); set keepLocally: true so a rollback finds it without a pull.",
    ]);
  });
  it("finds every image of the committed prod stack kept on the host", async () => {
    const run = await runUnderMocks(stackSpec("prod"), "prod");
    const images = run.resources.filter((r) => r.type === "docker:index/remoteImage:RemoteImage");
    expect(images.length).toBeGreaterThan(10);
    for (const r of images) expect(await check(p, { type: r.type, name: r.name, props: r.wireInputs }), r.name).toEqual([]);
  });
});
