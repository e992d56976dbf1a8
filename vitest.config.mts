import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each file runs its own Pulumi mock runtime: isolate them in forks so one file's
    // global runtime state never leaks into another's.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default", "./test/summaryReporter.ts"],
  },
});
