import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each file runs its own Pulumi mock runtime: isolate them in forks so one file's
    // global runtime state never leaks into another's.
    pool: "forks",
    // vitest's default is one worker fewer than the cores: a single one on CI's two, the 113 files one
    // after another. Many real-server suites wait on their servers more than they compute, so two workers
    // overlap them: the whole run took 11 min 49 s with two (user + sys 21.5 min) against about 17.5 with one.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default", "./test/summaryReporter.ts"],
  },
});
