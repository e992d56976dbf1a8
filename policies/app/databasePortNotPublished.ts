import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { type ContainerProps, roleOf, settings, TYPES } from "../lib";

const configSchema: PolicyConfigSchema = {
  properties: {
    databaseImages: {
      type: "array",
      items: { type: "string" },
      default: ["postgres", "mysql", "mariadb", "redis", "mongo", "memcached", "valkey"],
      description: "Image names (last path segment, no tag) that are databases or caches.",
    },
  },
};

/**
 * The runbooks reach PostgreSQL and Redis through `docker-compose exec`, never from outside.
 * A stack policy: it recognises a database by its role label and by the image it runs, which
 * lives on the RemoteImage the container depends on.
 */
export const databasePortNotPublished: StackValidationPolicy = {
  name: "app-database-port-not-published",
  description:
    "No database or cache container publishes a port on the host. The runbooks reach PostgreSQL, SQLite and Redis only from inside the host (docker-compose exec), and a published database port is open to the network.",
  configSchema,
  validateStack: (args, report) => {
    const { databaseImages } = settings<{ databaseImages: string[] }>(configSchema, args);
    for (const r of args.resources) {
      if (r.type !== TYPES.container) continue;
      const props = r.props as ContainerProps;
      const images = r.dependencies
        .filter((d) => d.type === TYPES.remoteImage)
        .map((d) => String(d.props["name"] ?? ""))
        .map((ref) => ref.slice(ref.lastIndexOf("/") + 1).split(/[:@]/)[0]!);
      const role = roleOf(props);
      const isDatabase = role === "database" || role === "cache" || images.some((i) => databaseImages.includes(i));
      if (isDatabase && (props.ports?.length ?? 0) > 0) {
        const published = props.ports!.map((p) => `${p.ip ? `${p.ip}:` : ""}${p.external ?? "random"}->${p.internal}`).join(", ");
        report(`Database or cache container ${r.name} publishes ${published} on the host; remove its ports.`, r.urn);
      }
    }
  },
};
