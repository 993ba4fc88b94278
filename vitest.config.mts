import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        projects: [
            {
                test: {
                    name: "unit",
                    include: ["test/**/*.test.ts"],
                    exclude: ["test/e2e/**", "test/**/*.e2e.test.ts", "node_modules/**"],
                    // Pulumi mocks keep global state: one file per process (vitest's default isolation).
                    testTimeout: 60_000,
                    hookTimeout: 60_000,
                },
            },
            {
                test: {
                    name: "e2e",
                    include: ["test/e2e/**/*.test.ts", "test/**/*.e2e.test.ts"],
                    // Real engine, real server, real ports: one file at a time on a 2-core machine.
                    fileParallelism: false,
                    testTimeout: 20 * 60_000,
                    hookTimeout: 20 * 60_000,
                },
            },
        ],
    },
});
