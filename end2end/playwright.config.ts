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
  use: {
    baseURL: `http://127.0.0.1:${port}`,
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
    command: [
      "rm -rf target/e2e && mkdir -p target/e2e",
      "./target/release/redline demo --calls 3000 --database sqlite://target/e2e/e2e.db",
      `exec ./target/release/redline serve --addr 127.0.0.1:${port} --database sqlite://target/e2e/e2e.db`,
    ].join(" && "),
    url: `http://127.0.0.1:${port}/api/v1/calls?limit=1`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
  },
});
