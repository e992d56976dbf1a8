/** The command line of `npm run rollback`, parsed by a pure function (nothing loads before it answers). */
import type { ParsedArgs } from "./commandLine";

export const ROLLBACK_USAGE = `Usage: npm run rollback -- --stack <name> [--app <id>] [--to <release>] [--yes] [--restore-data] [--images-only]

Lists the app's recorded releases (the stack output \`releases\`), and rolls back to the one before
the current release, or to --to <id>, through \`pulumi up\` (Automation API).
  --stack <name>    the stack (prod, staging)
  --app <id>        the app; may be left out when only one app has a release to go back to
  --to <id>         the release to go back to (default: the previous one)
  --yes             do not ask for confirmation
  --restore-data    restore the pre-deploy backup of the release being undone instead of a
                    down-migration (the data written since that release would be lost)
  --images-only     swap the images even though the schema revisions differ (you know the
                    older code reads the newer schema)
`;

export interface RollbackArgs {
  readonly stack: string;
  readonly app?: string;
  readonly to?: number;
  readonly yes: boolean;
  readonly restoreData: boolean;
  readonly imagesOnly: boolean;
}

export type ParsedRollbackArgs = ParsedArgs<RollbackArgs>;

export function parseRollbackArgs(argv: readonly string[]): ParsedRollbackArgs {
  let stack: string | undefined;
  let app: string | undefined;
  let to: number | undefined;
  const flags = { yes: false, restoreData: false, imagesOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${arg} needs a value`);
      return v;
    };
    try {
      if (arg === "--help" || arg === "-h") return { kind: "help" };
      else if (arg === "--stack") stack = value();
      else if (arg === "--app") app = value();
      else if (arg === "--to") {
        const v = value().replace(/^#/, "");
        if (!/^[1-9][0-9]*$/.test(v)) return { kind: "error", message: `--to must be a release id such as 3 (got ${v})` };
        to = Number(v);
      } else if (arg === "--yes" || arg === "-y") flags.yes = true;
      else if (arg === "--restore-data") flags.restoreData = true;
      else if (arg === "--images-only") flags.imagesOnly = true;
      else return { kind: "error", message: `unknown option ${arg}` };
    } catch (err) {
      return { kind: "error", message: (err as Error).message };
    }
  }
  if (!stack) return { kind: "error", message: "--stack is required" };
  if (flags.restoreData && flags.imagesOnly) return { kind: "error", message: "--restore-data and --images-only exclude each other" };
  return { kind: "run", args: { stack, ...(app !== undefined && { app }), ...(to !== undefined && { to }), ...flags } };
}
