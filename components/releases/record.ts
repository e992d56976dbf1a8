/**
 * The release record, as pure functions: what one update deployed, and the list of the last
 * releases the stack keeps (newest first). No Pulumi resource here: ReleaseRecord places it.
 */
import { createHash } from "node:crypto";

/** One deployed release. The shape of the `releases` stack output and of the host's releases.json. */
export interface Release {
  /** A sequence number, one more than the newest recorded: `npm run rollback -- --to <id>`. */
  readonly id: number;
  /** When the update that deployed it ran (ISO 8601, UTC). */
  readonly time: string;
  /** `repository:tag` per service (backend, frontend, proxy). */
  readonly images: Readonly<Record<string, string>>;
  /** `repository@sha256:...` per service, as the Docker provider read it back; absent where it read none. */
  readonly digests: Readonly<Record<string, string>>;
  /** sha256 of the app's resolved config (secrets only as their `secure:` ciphertexts, never values). */
  readonly configHash: string;
  /**
   * The database schema revision after migrations, read back by a deploy step: alembic revisions
   * (`ae1027a6acf`), or Django's latest applied migration per app (`auth:0012_x,courses:0004_y`).
   * Null where the app has no migrations to read.
   */
  readonly schemaRevision: string | null;
  /** The pre-deploy backup's key (the backups area), null where none was taken. */
  readonly backupKey: string | null;
  /** Set on a release a rollback deployed: the id of the release it undid (never a default target again). */
  readonly rollbackOf?: number;
}

/** Images and config: two updates with the same fingerprint deployed the same release. */
export function releaseFingerprint(images: Readonly<Record<string, string>>, configHash: string): string {
  return sha256(stableJson({ images, configHash }));
}

/** JSON with object keys sorted, so equal values always hash alike. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * The records an update leaves: the new release first, then the earlier ones, at most `keep`.
 * When the newest earlier record is the same release (same images and config: an update that
 * changed something else), it is kept as it was, with the schema revision and backup filled in if
 * it lacked them, so an unchanged stack does not gain a record on every `pulumi up`.
 */
export function nextReleases(previous: readonly Release[], current: Omit<Release, "id">, keep: number): Release[] {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`\`keep\` must be a whole number of at least 1 (got ${keep})`);
  const newest = previous[0];
  if (newest && releaseFingerprint(newest.images, newest.configHash) === releaseFingerprint(current.images, current.configHash)) {
    const same: Release = {
      ...newest,
      schemaRevision: newest.schemaRevision ?? current.schemaRevision,
      backupKey: newest.backupKey ?? current.backupKey,
      digests: { ...current.digests, ...newest.digests },
    };
    return [same, ...previous.slice(1)].slice(0, keep);
  }
  const id = Math.max(0, ...previous.map((r) => r.id)) + 1;
  return [{ id, ...current }, ...previous].slice(0, keep);
}

/**
 * The records of an earlier update, from the stack's own outputs (`apps.<id>.releases`), checked
 * field by field: anything that is not a well-formed record is dropped, never trusted. An empty
 * list on the first update (a stack with no outputs yet).
 */
export function parseReleases(value: unknown): Release[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((r: unknown): Release[] => {
    if (!isRecord(r)) return [];
    const { id, time, images, digests, configHash, schemaRevision, backupKey, rollbackOf } = r;
    if (typeof id !== "number" || !Number.isInteger(id) || typeof time !== "string" || typeof configHash !== "string") return [];
    if (!isStringMap(images) || (digests !== undefined && !isStringMap(digests))) return [];
    return [
      {
        id,
        time,
        images,
        digests: isStringMap(digests) ? digests : {},
        configHash,
        schemaRevision: typeof schemaRevision === "string" ? schemaRevision : null,
        backupKey: typeof backupKey === "string" ? backupKey : null,
        ...(typeof rollbackOf === "number" && Number.isInteger(rollbackOf) && { rollbackOf }),
      },
    ];
  });
}

/** The releases of one app in a stack's outputs (`apps` as the program exports it). */
export function releasesOfApp(appsOutput: unknown, appId: string): Release[] {
  return isRecord(appsOutput) && isRecord(appsOutput[appId]) ? parseReleases(appsOutput[appId]["releases"]) : [];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): v is Record<string, string> => isRecord(v) && Object.values(v).every((x) => typeof x === "string");
