/**
 * Which host directories the proxy mounts so that renewed certificates are picked up. Let's
 * Encrypt's `live/<name>/*.pem` are symlinks into `archive/`, and a renewal repoints them; a bind
 * mount of the symlink itself is resolved once, when the container starts, so a renewed
 * certificate never reached the proxy. Mounting the directory that holds both `live/` and
 * `archive/`, at its own path and read-only, lets nginx follow the links on every reload.
 */
import * as path from "node:path/posix";
import type { TlsSpec } from "../../config/spec";

/** The directories to mount, outermost only, sorted. */
export function tlsMounts(tls: TlsSpec): string[] {
  const dirs = [tls.certificateFile, tls.keyFile].map((file) => {
    if (!path.isAbsolute(file)) throw new Error(`\`${file}\` must be an absolute path on the Docker host`);
    const live = /^(\/.+)\/live\/[^/]+\/[^/]+$/.exec(file);
    return live ? live[1]! : path.dirname(file);
  });
  const unique = [...new Set(dirs)].sort();
  return unique.filter((dir) => !unique.some((other) => other !== dir && dir.startsWith(`${other}/`)));
}
