/**
 * The backup bucket's lifecycle, worked out from the app's retention: a pure function of days, so it
 * can be tested without resources.
 *
 * - backups move to infrequent access after `INFREQUENT_ACCESS_AFTER_DAYS` (S3's own minimum for
 *   STANDARD_IA), then to Glacier Instant Retrieval 30 days later (S3 refuses a GLACIER_IR
 *   transition less than 30 days after a STANDARD_IA one), each only where it comes before expiry;
 *   Instant Retrieval keeps every retained backup restorable without a thaw request;
 * - they expire at the cloud retention (90 days by default: LMS "30 days local, 90 days cloud");
 * - a version made noncurrent (by that expiry, or by anything else) is removed after
 *   `noncurrentDays`, so no old version is kept forever, and the delete markers left behind go too;
 * - multipart uploads a failed job left incomplete are aborted after `ABORT_MULTIPART_AFTER_DAYS`.
 */

export const INFREQUENT_ACCESS_AFTER_DAYS = 30;
export const ARCHIVE_AFTER_INFREQUENT_DAYS = 30;
export const ABORT_MULTIPART_AFTER_DAYS = 7;

export interface RetentionDays {
  /** Days a backup is kept in the bucket (current version). */
  readonly cloudRetentionDays: number;
  /** Days a noncurrent version is kept before it is removed. */
  readonly noncurrentDays: number;
}

export interface LifecycleRule {
  readonly id: string;
  readonly status: "Enabled";
  readonly filter: { readonly prefix: string };
  readonly transitions?: readonly { readonly days: number; readonly storageClass: string }[];
  readonly expiration?: { readonly days?: number; readonly expiredObjectDeleteMarker?: boolean };
  readonly noncurrentVersionExpiration?: { readonly noncurrentDays: number };
  readonly abortIncompleteMultipartUpload?: { readonly daysAfterInitiation: number };
}

export function lifecycleRules(days: RetentionDays): LifecycleRule[] {
  const { cloudRetentionDays: expire, noncurrentDays } = days;
  if (!Number.isInteger(expire) || expire < 1) throw new Error("`cloudRetentionDays` must be a whole number of at least 1");
  if (!Number.isInteger(noncurrentDays) || noncurrentDays < 1) throw new Error("`noncurrentDays` must be a whole number of at least 1");
  const archiveAt = INFREQUENT_ACCESS_AFTER_DAYS + ARCHIVE_AFTER_INFREQUENT_DAYS;
  const transitions = [
    { days: INFREQUENT_ACCESS_AFTER_DAYS, storageClass: "STANDARD_IA" },
    { days: archiveAt, storageClass: "GLACIER_IR" },
  ].filter((t) => t.days < expire);
  return [
    {
      id: "retention",
      status: "Enabled",
      filter: { prefix: "" },
      ...(transitions.length > 0 && { transitions }),
      expiration: { days: expire },
      noncurrentVersionExpiration: { noncurrentDays },
      abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_MULTIPART_AFTER_DAYS },
    },
    // S3 refuses expiredObjectDeleteMarker beside `days` in one expiration: a rule of its own.
    { id: "delete-markers", status: "Enabled", filter: { prefix: "" }, expiration: { expiredObjectDeleteMarker: true } },
  ];
}
