import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { authorization, call, ingest, open, signedInAs, uniqueOperation } from "./helpers";

test("an engineer turns a feed filter into an export, watches it finish and downloads lines that match the count", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_export");
  const body = await ingest(
    request,
    Array.from({ length: 12 }, (_, i) =>
      call({
        operation,
        output: `wrong answer ${i}`,
        minutesAgo: 12 - i,
        input: [{ role: "user", content: `Question ${i}: where is order A-${i}? Mail me at user${i}@example.com` }],
      }),
    ),
  );
  for (const [i, result] of body.results.entries()) {
    const saved = await request.post(`/api/v1/calls/${result.id}/reviews`, {
      headers: authorization(),
      data: { verdict: "incorrect", corrected_output: `Order A-${i} ships today.`, base_revision: 0 },
    });
    expect(saved.status()).toBe(201);
  }

  const engineer = await signedInAs(browser, "engineer");
  const page = engineer.page;
  await open(page, `/calls?operation=${operation}&verdict=incorrect`);
  await page.getByTestId("export-view").click();
  await expect(page).toHaveURL(new RegExp(`/exports\\?operation=${operation}&verdict=incorrect`));
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("export-filter-operation")).toHaveValue(operation);
  // The count is there before anything is built, and follows the options.
  await expect(page.getByTestId("export-total")).toHaveText("12");
  await page.getByTestId("export-cap").fill("5");
  await page.getByTestId("export-cap").blur();
  await expect(page.getByTestId("export-total")).toHaveText("5");
  await page.getByTestId("export-cap").fill("");
  await page.getByTestId("export-cap").blur();
  await expect(page.getByTestId("export-total")).toHaveText("12");
  // Redaction is previewed beside the original.
  await page.getByTestId("export-redact").check();
  await expect(page.getByTestId("redaction-sample").first()).toContainText("[EMAIL_1]");
  await page.getByTestId("export-validation").fill("0");
  await page.getByTestId("export-validation").blur();
  await expect(page.getByTestId("export-preview")).toContainText("0 validation");

  await page.getByTestId("export-create").click();
  await expect(page.getByTestId("export-created")).toBeVisible();
  const row = page.getByTestId("export-row").first();
  // It is queued or running first, then done, without a reload.
  await expect(row.getByTestId("export-state")).toHaveAttribute("data-state", /queued|running|done/);
  await expect(row.getByTestId("export-state")).toHaveAttribute("data-state", "done", { timeout: 20_000 });
  await expect(row.getByTestId("export-state")).toContainText("Done · 12 rows");

  const downloading = page.waitForEvent("download");
  await row.getByTestId("export-download-train").click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^redline-export-\d+-chat_jsonl-train\.jsonl$/);
  const text = readFileSync(await download.path(), "utf8");
  const lines = text.trim().split("\n");
  expect(lines).toHaveLength(12);
  for (const line of lines) {
    const example = JSON.parse(line);
    const last = example.messages[example.messages.length - 1];
    expect(last.role).toBe("assistant");
    expect(last.content).toMatch(/^Order A-\d+ ships today\.$/);
    expect(line).not.toContain("@example.com");
  }
  await engineer.context.close();
});

test("a reviewer has no exports page and no link to it", async ({ browser }) => {
  const reviewer = await signedInAs(browser, "reviewer");
  await open(reviewer.page, "/calls");
  await expect(reviewer.page.getByTestId("nav-exports")).toHaveCount(0);
  await expect(reviewer.page.getByTestId("export-view")).toHaveCount(0);
  const response = await reviewer.page.goto("/exports");
  expect(response?.status()).toBe(403);
  await reviewer.context.close();
});

test("a larger export shows its progress bar moving, without a reload, until it is done", async ({ browser }) => {
  // The test server writes exports at most 600 rows a second (--export-max-rows-per-second),
  // so the demo's calls in the default range (about 2,500) take seconds: long enough to watch.
  const engineer = await signedInAs(browser, "engineer");
  const page = engineer.page;
  await open(page, "/exports");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByTestId("export-format-jsonl").check();
  const shown = async () => Number(((await page.getByTestId("export-total").textContent()) ?? "").replace(/\D/g, ""));
  // Every call, not the reviewed ones the chat format counted before the switch.
  await expect.poll(shown).toBeGreaterThan(1500);
  const total = await shown();
  await page.getByTestId("export-create").click();
  await expect(page.getByTestId("export-created")).toBeVisible();
  const row = page.getByTestId("export-row").first();

  // Read the bar as the page updates it: at least two different values strictly between
  // empty and full, rising, before the row says done.
  // State and bar are read together, in the page: read one after the other, the bar could
  // go (the export done) between the two reads, and the second would wait for it in vain.
  const seen: number[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { state, value } = await row.evaluate((element) => {
      const progress = element.querySelector('[data-testid="export-progress"]');
      return {
        state: element.querySelector('[data-testid="export-state"]')?.getAttribute("data-state") ?? null,
        value: progress === null ? null : Number(progress.getAttribute("aria-valuenow")),
      };
    });
    if (state === "done") break;
    if (state === "running" && value !== null && value > 0 && value < 100 && !seen.includes(value)) {
      seen.push(value);
    }
    await page.waitForTimeout(200);
  }
  expect(seen.length, `progress values seen: ${seen.join(", ")}`).toBeGreaterThanOrEqual(2);
  expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  await expect(row.getByTestId("export-state")).toHaveAttribute("data-state", "done");
  await expect(row.getByTestId("export-state")).toContainText(`Done · ${total.toLocaleString("en-US")} rows`);
  await engineer.context.close();
});
