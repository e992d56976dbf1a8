/**
 * The host's copy of the release record, `/var/lib/runbook/<app>/releases.json` (newest first), as
 * a POSIX sh script rendered by a pure function. The image prune job (maintenance area) keeps every
 * image this file names, so a rollback to a recorded release never waits for a pull.
 *
 * The script writes a temporary file beside the record and renames it over the old one: the prune
 * job never reads half a file. `RUNBOOK_ROOT` (empty on a host) lets a test run it in a directory.
 */
import { shellQuote } from "../shared/shell";
import type { Release } from "./record";

export const RELEASES_DIR = "/var/lib/runbook";

/** Where an app's record lives on its host. */
export const releasesFilePath = (app: string): string => `${RELEASES_DIR}/${app}/releases.json`;

/** The command of the deploy step: the script on stdin, run as root (directly, or with `sudo -n`). */
export const RELEASES_FILE_COMMAND = 'if [ "$(id -u)" -eq 0 ]; then sh -s; else sudo -n sh -s; fi';

const EOF_TAG = "RUNBOOK_RELEASES_JSON";

/** The record as the file holds it: JSON, an array, newest first, one release per entry. */
export function renderReleasesJson(releases: readonly Release[]): string {
  return `${JSON.stringify(releases, null, 2)}\n`;
}

export function renderReleasesFileScript(app: string, releases: readonly Release[]): string {
  if (!/^[a-z][a-z0-9-]*$/.test(app)) throw new Error(`\`app\` must be a catalog id (lowercase letters, digits, '-'), got ${JSON.stringify(app)}`);
  const json = renderReleasesJson(releases);
  // JSON.stringify escapes control characters and indents every line but `[` and `]`: no line of it
  // can equal the here-document's end tag.
  const file = releasesFilePath(app);
  return [
    "#!/bin/sh",
    `# Release record of ${app}: rendered by runbook-as-code, do not edit by hand.`,
    "set -eu",
    'root="${RUNBOOK_ROOT:-}"',
    `dir="$root"${shellQuote(`${RELEASES_DIR}/${app}`)}`,
    'mkdir -p "$dir"',
    'tmp="$dir/releases.json.new"',
    `cat > "$tmp" <<'${EOF_TAG}'`,
    json.replace(/\n$/, ""),
    EOF_TAG,
    'chmod 644 "$tmp"',
    'mv -f "$tmp" "$dir/releases.json"',
    `echo "release record: ${file} names ${releases.length} release(s), newest ${releases[0] ? `#${releases[0].id}` : "none"}"`,
    "",
  ].join("\n");
}
