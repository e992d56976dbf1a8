/**
 * PostgreSQL's SCRAM-SHA-256 password verifier (RFC 5802, RFC 7677), computed here so that the
 * database is given the verifier, never the password: `ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'`
 * stores it as is (PostgreSQL docs, "Password Authentication": a password given already encrypted is
 * stored as given), and a server that logs statements logs no password. psql's \password does the same.
 *
 * The salt is derived from the password and the role with HMAC, not drawn at random: the same
 * password gives the same verifier on every run, so the deploy step's input changes only when a
 * password does. A salt need not be secret, only unique per password; an HMAC keyed by a 256-bit
 * random password is.
 */
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";

/** PostgreSQL's default `scram_iterations`. */
export const SCRAM_ITERATIONS = 4096;

export function scramSha256Verifier(password: string, salt: Buffer, iterations: number = SCRAM_ITERATIONS): string {
  // SASLprep leaves printable ASCII unchanged; the generated passwords are letters and digits.
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error("a SCRAM verifier is computed here for printable ASCII passwords only");
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** A 16-byte salt for `role`'s password, the same on every run for the same password. */
export function passwordSalt(password: string, role: string): Buffer {
  return createHmac("sha256", password).update(`runbook scram salt for ${role}`).digest().subarray(0, 16);
}

/** The verifier the role step gives PostgreSQL for `role`'s password. */
export const roleVerifier = (password: string, role: string): string => scramSha256Verifier(password, passwordSalt(password, role));
