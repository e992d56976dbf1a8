import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { startS3, installJobs } from "./test/backups/servers";
import { tempDir } from "./test/tools/realTools";
(async () => {
  const s3 = await startS3();
  const dir = tempDir("sq");
  const db = `${dir}/data/app.db`; fs.mkdirSync(`${dir}/data`); fs.mkdirSync(`${dir}/uploads/a/b`, { recursive: true });
  for (let i = 0; i < 50; i++) fs.writeFileSync(`${dir}/uploads/a/b/f${i}.bin`, Buffer.alloc(20000, i));
  spawnSync("sqlite3", [db], { input: "PRAGMA journal_mode=WAL; CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE events(id INTEGER PRIMARY KEY, payload TEXT); WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM g WHERE x < 20000) INSERT INTO users(name) SELECT 'user ' || x FROM g; WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM g WHERE x < 20000) INSERT INTO events(payload) SELECT hex(randomblob(100)) FROM g;" });
  // A writer that keeps inserting in small transactions while the backup runs.
  const writer = spawn("sh", ["-c", `i=0; while [ $i -lt 3000 ]; do sqlite3 ${db} ".timeout 5000" "INSERT INTO events(payload) VALUES (hex(randomblob(200)));" || exit 1; i=$((i+1)); done`]);
  await new Promise((r) => setTimeout(r, 300));
  try {
    const jobs = installJobs({ appId: "handwork", engine: "sqlite", uploads: true, configDir: "/etc/runbook-backup/handwork" }, s3, { SQLITE_PATH: db, UPLOADS_DIR: `${dir}/uploads` });
    const b = jobs.run("backup", ["--reason", "scheduled"]);
    console.log("backup", b.status, b.stdout, b.stderr.slice(-2000), b.seconds);
    console.log(spawnSync("sh", ["-c", `cat ${jobs.localDir}/*/manifest.txt`], { encoding: "utf8" }).stdout);
    const v = jobs.run("verify");
    console.log("verify", v.status, v.stderr.slice(-1000));
    writer.kill();
    fs.rmSync(db); fs.rmSync(`${dir}/uploads`, { recursive: true });
    const r = jobs.run("restore", ["--latest"]);
    console.log("restore", r.status, r.stdout, r.stderr.slice(-1000));
    console.log(spawnSync("sqlite3", [db, "select count(*) from users; select count(*) from events; pragma journal_mode"], { encoding: "utf8" }).stdout, fs.readdirSync(`${dir}/uploads/a/b`).length);
  } finally { writer.kill(); await s3.stop(); }
})();
