import { readFileSync } from "node:fs";
import { APIRequestContext, Browser, expect, Page } from "@playwright/test";

/** The all-scope API key the test server was started with (see playwright.config.ts). */
export function apiKey(): string {
  return readFileSync("../target/e2e/key.txt", "utf8").trim();
}

export function authorization(key = apiKey()) {
  return { Authorization: `Bearer ${key}` };
}

/** A browser context signed in as one of the e2e people (e2e-reviewer, e2e-lead, …). */
export async function signedInAs(browser: Browser, role: "reviewer" | "lead" | "engineer") {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByTestId("login-name").fill(`e2e-${role}`);
  await page.getByTestId("login-password").fill(`e2e-${role}-password`);
  await page.getByTestId("login-submit").click();
  await expect(page).toHaveURL(/\/calls$/);
  return { context, page };
}

/** A fresh operation name per test, so tests never see each other's calls. */
export function uniqueOperation(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export interface CallFields {
  operation: string;
  output: string;
  minutesAgo?: number;
  model?: string;
  model_version?: string;
  input?: unknown;
  created_at?: string;
}

export function call(fields: CallFields) {
  const created = new Date(Date.now() - (fields.minutesAgo ?? 0) * 60_000);
  return {
    operation: fields.operation,
    model: fields.model ?? "gpt-4o",
    model_version: fields.model_version ?? "2024-08-06",
    input: fields.input ?? [
      { role: "system", content: "Answer briefly." },
      { role: "user", content: `Question for ${fields.operation}` },
    ],
    output: fields.output,
    latency_ms: 420,
    input_tokens: 30,
    output_tokens: 12,
    cost_usd: 0.0003,
    created_at: fields.created_at ?? created.toISOString(),
  };
}

export async function ingest(request: APIRequestContext, calls: unknown[]) {
  const response = await request.post("/api/v1/calls", { data: calls, headers: authorization() });
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.invalid).toBe(0);
  return body;
}

/** Opens a page and waits until the WASM has hydrated it. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

export function rows(page: Page) {
  return page.getByTestId("call-row");
}
