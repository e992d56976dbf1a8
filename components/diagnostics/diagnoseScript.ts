/**
 * The runbooks' troubleshooting steps as one report (FDTS "Application Down" L30 `logs --tail=100`,
 * "Database Corruption" L62 `PRAGMA integrity_check`, "Daily Health Check" L146-147 `df -h`, `docker
 * system df`, L163 disk below 80 %, "File Upload Failures" L469 `nginx -t`, L444 `PRAGMA busy_timeout;
 * PRAGMA journal_mode;`; LMS "Key Metrics" DB connections < 80 % of max): a POSIX sh script run on
 * the Docker host, a pure function of the app's spec. Read-only: it changes nothing.
 *
 * Never prints a secret: environment values are never shown, and the logs it prints pass through a
 * filter that replaces the values of the containers' secret variables (the catalog's secret names and
 * any name shaped like a secret) and any URL password with `[redacted]`.
 */
import { secretVariableNames } from "../../apps/secretSlots";
import type { AppSpec } from "../../config/spec";
import { shellQuote } from "../shared/shell";

export const DIAGNOSE_DEFAULTS = {
  /** FDTS "Daily Health Check" L163: "Disk usage below 80%". */
  diskPercent: 80,
  /** LMS "Key Metrics to Monitor": database connections below 80 % of max_connections. */
  connectionsPercent: 80,
  logLines: 50,
  logSince: "24h",
} as const;

/** Names whose values are secret wherever they appear (the config's secret-shaped names, and DSNs). */
const SECRET_NAME = "SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIALS|WEBHOOK_URL|DATABASE_URL|DATA_SOURCE_NAME|_KEY$";

/**
 * The runbook's own database check where the catalog has one (Handwork "Service Health Checks": the
 * app's engine runs `SELECT 1`), inside the first backend container; its answer is shown redacted.
 */
function appCheck(app: AppSpec, filter: string): string {
  const check = app.backend.databaseCheck;
  if (!check) return "";
  return `section "database through the backend (runbook: ${check.source.section})"
backend=$(docker ps -q --filter ${filter} --filter label=runbook.service=backend | head -n 1)
if [ -z "$backend" ]; then problem "no running backend container"; else
  answer=$(docker exec "$backend" ${check.command.map(shellQuote).join(" ")} 2>&1) || true
  printf '%s\\n' "$answer" | redact
  case "$answer" in *${shellQuote(check.ok)}*) ;; *) problem ${shellQuote(`the backend's database check did not answer "${check.ok}"`)};; esac
fi

`;
}

/**
 * The runbook's failed-login count from the app's own records (LMS "Security Monitoring": the AuditLog
 * through Django's shell), inside the first backend container, shown redacted. A count is for a person
 * to read; an answer without one (the query failed) is a problem.
 */
function failedLogins(app: AppSpec, filter: string): string {
  const query = app.backend.failedLoginsQuery;
  if (!query) return "";
  const counted = `^${query.answer.replace(/[.*+?^${}()|[\]\\]/g, (c) => `\\${c}`)}: [0-9]+$`;
  return `section "failed logins (runbook: ${query.source.section})"
backend=$(docker ps -q --filter ${filter} --filter label=runbook.service=backend | head -n 1)
if [ -z "$backend" ]; then problem "no running backend container"; else
  answer=$(docker exec "$backend" ${query.command.map(shellQuote).join(" ")} 2>&1) || true
  printf '%s\n' "$answer" | redact
  if ! printf '%s\n' "$answer" | grep -Eq ${shellQuote(counted)}; then problem ${shellQuote(`the failed-login query did not answer "${query.answer}: <count>"`)}; fi
fi

`;
}

export function renderDiagnoseScript(app: AppSpec): string {
  const id = app.id;
  if (!/^[a-z][a-z0-9-]*$/.test(id)) throw new Error(`\`app.id\` must be a catalog id (got ${id})`);
  const names = [...secretVariableNames(app.backend.secretEnv), "POSTGRES_PASSWORD"].join(" ");
  const db = app.database;
  const filter = `label=runbook.app=${id}`;
  const database =
    db.engine === "postgres"
      ? [
          `db=$(docker ps -q --filter ${filter} --filter label=runbook.service=database | head -n 1)`,
          'if [ -z "$db" ]; then problem "no running database container"; else',
          `  q() { docker exec "$db" psql -X -At -U ${db.user} -d ${db.database} -c "$1"; }`,
          "  used=$(q 'SELECT count(*) FROM pg_stat_activity;') || used=",
          "  max=$(q 'SHOW max_connections;') || max=",
          '  if [ -z "$used" ] || [ -z "$max" ]; then problem "the database does not answer psql"; else',
          "    percent=$((used * 100 / max))",
          '    echo "connections: $used of max_connections $max ($percent%)"',
          `    if [ "$percent" -ge ${DIAGNOSE_DEFAULTS.connectionsPercent} ]; then problem "database connections at $percent% of max_connections (runbook: below ${DIAGNOSE_DEFAULTS.connectionsPercent}%)"; fi`,
          "  fi",
          // LMS "Daily Operations" / Handwork "Weekly Database Optimization": the database's size.
          "  if size=$(q 'SELECT pg_size_pretty(pg_database_size(current_database()));'); then echo \"database size: $size\"; fi",
          "fi",
        ]
      : (() => {
          const volume = app.backend.volumes.find((v) => v.name === db.volume);
          if (!volume) throw new Error(`${id}: the SQLite volume ${db.volume} is not a backend volume`);
          const relative = db.path.slice(volume.mountPath.length + 1);
          return [
            `backend=$(docker ps -q --filter ${filter} --filter label=runbook.service=backend | head -n 1)`,
            'if [ -z "$backend" ]; then problem "no running backend container"; else',
            `  source=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination ${JSON.stringify(volume.mountPath)}}}{{.Source}}{{end}}{{end}}' "$backend")`,
            `  file="$source"/${shellQuote(relative)}`,
            // The host's sqlite3 where the deploy user may read the volume; else the one in the image.
            '  if [ -r "$file" ] && command -v sqlite3 >/dev/null 2>&1; then sq() { sqlite3 -readonly -batch "$file" "$1"; }',
            `  else sq() { docker exec "$backend" sqlite3 -readonly -batch ${shellQuote(db.path)} "$1"; }; fi`,
            "  check=$(sq 'PRAGMA integrity_check;' 2>&1) || true",
            '  echo "integrity_check: $check"',
            '  if [ "$check" != ok ]; then problem "PRAGMA integrity_check did not answer ok"; fi',
            // Handwork "Weekly Database Optimization" (`du -h`): the file's size in pages.
            "  if size=$(sq 'SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size();' 2>&1); then echo \"database size: $size bytes\"; fi",
            "  mode=$(sq 'PRAGMA journal_mode;' 2>&1) || true",
            '  echo "journal_mode: $mode"',
            ...(db.walMode ? ['  if [ "$mode" != wal ]; then problem "journal_mode is $mode; the runbook runs SQLite in WAL mode"; fi'] : []),
            "fi",
          ];
        })();
  return `#!/bin/sh
# Diagnostics for ${id} (${app.displayName}): rendered by runbook-as-code. Read-only.
set -u
problems=0
problem() { problems=$((problems + 1)); echo "PROBLEM: $*"; }
section() { printf '\\n== %s ==\\n' "$1"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$work/secrets"
docker ps -a --filter ${filter} --format '{{.Names}}' > "$work/names"
# The values to hide: every secret variable of every container of the app (never printed).
secret_names=" ${names} "
while IFS= read -r name; do
  [ -n "$name" ] || continue
  docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$name" | while IFS= read -r line; do
    key=\${line%%=*}
    value=\${line#*=}
    [ -n "$value" ] || continue
    case "$secret_names" in *" $key "*) echo "$value";; *) if printf '%s\\n' "$key" | grep -Eq '${SECRET_NAME}'; then echo "$value"; fi;; esac
  done >> "$work/secrets"
done < "$work/names"
redact() {
  awk -v list="$work/secrets" 'BEGIN { while ((getline s < list) > 0) if (length(s) > 0) secret[++n] = s }
    { for (i = 1; i <= n; i++) while ((p = index($0, secret[i])) > 0) $0 = substr($0, 1, p - 1) "[redacted]" substr($0, p + length(secret[i]))
      gsub(/:\\/\\/[^:\\/@ ]*:[^@ \\/]*@/, "://[redacted]@"); print }'
}

echo "diagnostics: ${id} on $(uname -n) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"

section "containers (state, health, restarts)"
count=0
while IFS= read -r name; do
  [ -n "$name" ] || continue
  count=$((count + 1))
  line=$(docker inspect -f '{{.Name}} status={{.State.Status}} health={{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} restarts={{.RestartCount}} oom={{.State.OOMKilled}}' "$name")
  echo "$line"
  case "$line" in *" status=running "*) ;; *) problem "$name is not running";; esac
  case "$line" in *" health=unhealthy "*|*" health=starting "*) problem "$name is not healthy";; esac
  case "$line" in *" oom=true"*) problem "$name was killed for memory (OOM); see its memory limit";; esac
done < "$work/names"
if [ "$count" -eq 0 ]; then problem "no container of ${id} on this host"; fi

section "recent logs (last ${DIAGNOSE_DEFAULTS.logLines} lines of ${DIAGNOSE_DEFAULTS.logSince}, secrets redacted)"
while IFS= read -r name; do
  [ -n "$name" ] || continue
  echo "-- $name"
  docker logs --since ${DIAGNOSE_DEFAULTS.logSince} --tail ${DIAGNOSE_DEFAULTS.logLines} "$name" 2>&1 | redact
done < "$work/names"

section "disk"
df -hP / 2>/dev/null || true
docker system df 2>/dev/null || true
used=$(df -P / | awk 'NR == 2 { sub(/%/, "", $5); print $5 }')
if [ -n "$used" ] && [ "$used" -ge ${DIAGNOSE_DEFAULTS.diskPercent} ]; then problem "disk at $used% (runbook: below ${DIAGNOSE_DEFAULTS.diskPercent}%)"; fi

section "database (${db.engine})"
${database.join("\n")}

${appCheck(app, filter)}${failedLogins(app, filter)}section "proxy (nginx -t)"
proxy=$(docker ps -q --filter ${filter} --filter label=runbook.service=proxy | head -n 1)
if [ -z "$proxy" ]; then problem "no running proxy container"; elif docker exec "$proxy" nginx -t > "$work/nginx" 2>&1; then cat "$work/nginx"; else cat "$work/nginx"; problem "nginx -t refuses the proxy's config"; fi

section "summary"
echo "problems: $problems"
[ "$problems" -eq 0 ]
`;
}
