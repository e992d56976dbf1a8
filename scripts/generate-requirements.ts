/**
 * `npm run generate:requirements`: writes policies/requirements.json from the app catalog, so the
 * policy pack (which must stand alone for `pulumi preview --policy-pack policies`) enforces each
 * app's runbook requirements. `--check` only compares, and exits 1 when the file is out of date.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { catalog } from "../apps";
import { REGENERATE_COMMAND, REQUIREMENTS_FILE, renderRequirementsFile } from "../apps/requirementsData";

// RUNBOOK_REQUIREMENTS_FILE points --check at another copy (the tests use it).
const file = process.env["RUNBOOK_REQUIREMENTS_FILE"] ?? path.join(__dirname, "..", REQUIREMENTS_FILE);
const text = renderRequirementsFile(catalog);
if (process.argv.includes("--check")) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  if (current !== text) {
    console.error(`${path.relative(process.cwd(), file)} is out of date with the app catalog: run \`${REGENERATE_COMMAND}\` and commit it.`);
    process.exit(1);
  }
  console.log(`${REQUIREMENTS_FILE} is up to date.`);
} else {
  fs.writeFileSync(file, text);
  console.log(`wrote ${REQUIREMENTS_FILE} (${Object.keys(catalog).length} apps)`);
}
