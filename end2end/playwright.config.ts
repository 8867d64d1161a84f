import { defineConfig } from "@playwright/test";

// The suite runs against the release build on a fresh SQLite database seeded with a small demo
// workload, in Debian's Chromium (Playwright never downloads a browser here).
const port = 3100;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  globalSetup: "./tests/setup.ts",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    // Signed in as the admin (tests/setup.ts); tests about other people open their own context.
    storageState: "../target/e2e/admin.json",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    cwd: "..",
    // A fresh database with demo calls, a person per role and an all-scope API key for the
    // tests' own API calls (see tests/setup.ts for how they are used).
    command: [
      "rm -rf target/e2e && mkdir -p target/e2e",
      "export REDLINE_DATABASE_URL=sqlite://target/e2e/e2e.db REDLINE_ADMIN_PASSWORD=e2e-admin-password",
      "./target/release/redline demo --calls 3000 > /dev/null",
      "for role in reviewer lead engineer; do echo e2e-$role-password | ./target/release/redline user add e2e-$role --role $role --password-stdin > /dev/null; done",
      "./target/release/redline key create --user admin --name e2e --scope ingest,read,review,export,configure > target/e2e/key.txt",
      `exec ./target/release/redline serve --addr 127.0.0.1:${port} --export-max-rows-per-second 600`,
    ].join(" && "),
    url: `http://127.0.0.1:${port}/readyz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
  },
});
