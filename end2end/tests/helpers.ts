import { APIRequestContext, expect, Page } from "@playwright/test";

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
  const response = await request.post("/api/v1/calls", { data: calls });
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
