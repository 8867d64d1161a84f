import { APIRequestContext, expect, test } from "@playwright/test";
import { authorization, call, ingest, open, signedInAs, uniqueOperation } from "./helpers";

async function reviewByApi(request: APIRequestContext, id: string, verdict: "correct" | "incorrect", base = 0) {
  const data = {
    verdict,
    corrected_output: verdict === "incorrect" ? "fixed" : null,
    tags: verdict === "incorrect" ? ["wrong_total"] : [],
    note: "",
    base_revision: base,
  };
  const response = await request.post(`/api/v1/calls/${id}/reviews`, { data, headers: authorization() });
  expect(response.status()).toBe(201);
}

test("reviews saved in the queue appear as a point with their n on hover and in the data table", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_trend");
  await ingest(request, [1, 2, 3].map((m) => call({ operation, output: `answer ${m}`, minutesAgo: m })));
  const { context, page } = await signedInAs(browser, "lead");

  // Nothing reviewed yet: the chart says so.
  await open(page, `/trends/${operation}`);
  await expect(page.locator(".chart-point-link circle")).toHaveCount(0);
  await expect(page.getByTestId("accuracy-chart")).toContainText("No reviews in this range");

  await open(page, `/review?operation=${operation}`);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  for (let i = 0; i < 3; i++) {
    await expect(page).toHaveURL(/call=/);
    const id = (await page.getByTestId("call-id").textContent()) ?? "";
    if (i === 0) {
      // x: incorrect, and the cursor goes into the editor.
      await page.keyboard.press("x");
      await expect(page.getByTestId("verdict-incorrect")).toBeChecked();
      await page.getByTestId("editor").fill("a better answer");
    } else {
      await page.getByTestId("verdict-correct").check();
    }
    await page.keyboard.press("Control+Enter");
    if (i < 2) await expect(page.getByTestId("call-id")).not.toHaveText(id);
  }
  await expect(page.getByTestId("queue-empty")).toBeVisible();

  await open(page, `/trends/${operation}`);
  const point = page.locator(".chart-point-link circle");
  await expect(point).toHaveCount(1);
  // Three sampled reviews are fewer than the minimum (30): drawn hollow, never a confident value.
  await expect(point).toHaveClass(/hollow/);
  await point.hover();
  await expect(page.getByTestId("chart-readout")).toContainText("2 correct of n=3");
  await page.getByTestId("accuracy-data").locator("summary").click();
  await expect(page.getByTestId("data-n")).toHaveText(["3"]);
  await expect(page.getByTestId("data-row")).toContainText(["too few reviews (66.7%)"]);
  // The point opens the feed of that version's calls on that day.
  const href = await page.locator(".chart-point-link").getAttribute("href");
  expect(href).toContain(`operation=${operation}`);
  expect(href).toContain("model_version=2024-08-06");
  await context.close();
});

test("switching the bucket and the versions updates the URL and the chart", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_versions");
  const body = await ingest(request, [
    call({ operation, output: "old one", minutesAgo: 3 }),
    call({ operation, output: "old two", minutesAgo: 4 }),
    call({ operation, output: "new one", minutesAgo: 5, model_version: "2025-01-01" }),
  ]);
  for (const result of body.results) await reviewByApi(request, result.id, "correct");
  const { context, page } = await signedInAs(browser, "engineer");

  // Reviews saved through the API are not sampled: the sampled chart is empty, all reviews not.
  await open(page, `/trends/${operation}`);
  await expect(page.locator(".chart-point-link circle")).toHaveCount(0);
  await page.getByTestId("reviews-switch").getByText("All reviews").click();
  await expect(page).toHaveURL(/sampled=false/);
  await expect(page.locator(".chart-point-link circle")).toHaveCount(2);
  await expect(page.getByTestId("accuracy-chart").locator(".legend li")).toHaveCount(2);

  // Weeks by default; days on a click, with the rest of the URL kept.
  await expect(page.getByTestId("accuracy-chart").locator(".axis-label").filter({ hasText: /^wk / }).first()).toBeVisible();
  await page.getByTestId("bucket-day").click();
  await expect(page).toHaveURL(/bucket=day/);
  await expect(page).toHaveURL(/sampled=false/);
  await expect(page.getByTestId("accuracy-chart").locator(".axis-label").filter({ hasText: /^wk / })).toHaveCount(0);

  await page.getByTestId("trends-controls").getByLabel(/2025-01-01/).check();
  await page.getByTestId("trends-apply").click();
  await expect(page).toHaveURL(/model_version=gpt-4o%402025-01-01/);
  await expect(page).toHaveURL(/bucket=day/);
  await expect(page.locator(".chart-point-link circle")).toHaveCount(1);
  await expect(page.getByTestId("accuracy-chart").locator(".legend li")).toHaveText(["gpt-4o 2025-01-01"]);
  await expect(page.getByTestId("version-row")).toHaveCount(1);
  await context.close();
});

test("the recommendation changes when new reviews make a cheaper version good enough", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_route");
  const put = await request.put(`/api/v1/operations/${operation}`, {
    data: { accuracy_target: 0.5, min_reviews: 5 },
    headers: { ...authorization(), "Content-Type": "application/json" },
  });
  expect(put.ok()).toBe(true);
  const calls = [];
  for (let i = 0; i < 6; i++) {
    calls.push({ ...call({ operation, output: `dear ${i}`, minutesAgo: i + 1, model_version: "dear" }), cost_usd: 0.01 });
    calls.push({ ...call({ operation, output: `cheap ${i}`, minutesAgo: i + 1, model_version: "cheap" }), cost_usd: 0.001 });
  }
  const body = await ingest(request, calls);
  const ids: string[] = body.results.map((r: { id: string }) => r.id);
  const cheap = ids.filter((_, i) => i % 2 === 1);
  for (const id of ids.filter((_, i) => i % 2 === 0)) await reviewByApi(request, id, "correct");
  for (const id of cheap) await reviewByApi(request, id, "incorrect");

  const { context, page } = await signedInAs(browser, "lead");
  await open(page, `/trends/${operation}?sampled=false`);
  await expect(page.getByTestId("recommended-version")).toContainText("gpt-4o dear");
  await expect(page.getByTestId("recommendation-reason")).toContainText("meets 50.0% target");

  // The cheap version is judged again, correct this time: now both meet the target and the
  // cheaper one is recommended.
  for (const id of cheap) await reviewByApi(request, id, "correct", 1);
  await open(page, `/trends/${operation}?sampled=false`);
  await expect(page.getByTestId("recommended-version")).toContainText("gpt-4o cheap");
  await expect(page.getByTestId("recommendation-reason")).toContainText("10× cheaper than gpt-4o dear");

  // The overview shows the same advice for the operation.
  await open(page, "/trends?sampled=false");
  const row = page.getByTestId("trends-row").filter({ hasText: operation });
  await expect(row.getByTestId("recommended")).toContainText("gpt-4o cheap");
  await context.close();
});

test("the trends pages render their figures without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: "../target/e2e/admin.json" });
  const page = await context.newPage();
  await page.goto("/trends");
  await expect(page.getByTestId("trends-table")).toBeVisible();
  const first = page.getByTestId("trends-link").first();
  const name = (await first.textContent()) ?? "";
  expect(name).not.toBe("");
  // Sorting is a link: it works without scripts.
  await page.getByRole("link", { name: "Calls (30 d)" }).click();
  await expect(page).toHaveURL(/sort=calls&dir=desc/);
  await expect(page.getByTestId("trends-row").first()).toBeVisible();

  await page.goto(`/trends/${name}`);
  await expect(page.getByTestId("accuracy-chart").locator("svg title").first()).toContainText("Accuracy of");
  expect(await page.locator(".chart-point-link").count()).toBeGreaterThan(0);
  expect(await page.getByTestId("version-row").count()).toBeGreaterThan(0);
  await expect(page.getByTestId("recommendation")).toBeVisible();
  // The bucket switch is a link too.
  await page.getByTestId("bucket-day").click();
  await expect(page).toHaveURL(/bucket=day/);
  expect(await page.locator(".chart-point-link").count()).toBeGreaterThan(0);
  await context.close();
});
