import { expect, test } from "@playwright/test";
import { authorization, call, ingest, open, signedInAs, uniqueOperation } from "./helpers";

test("a lead sets a JSON Schema and guidelines; a reviewer follows them, sees each violation's path, fixes it and saves", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_schema");
  const body = await ingest(request, [call({ operation, output: '{"amount": "twelve"}', minutesAgo: 1 })]);
  const id = body.results[0].id;

  const lead = await signedInAs(browser, "lead");
  await open(lead.page, "/operations");
  await lead.page.getByTestId("operation-link").filter({ hasText: operation }).click();
  await expect(lead.page).toHaveURL(new RegExp(`/operations/${operation}$`));
  await lead.page.getByTestId("description").fill("Invoice amount as JSON");
  await lead.page.getByTestId("output-kind").selectOption("json");
  await lead.page.getByTestId("json-schema").fill(
    JSON.stringify({ type: "object", required: ["amount"], properties: { amount: { type: "number" } } }),
  );
  // Hostile guidelines: the Markdown renders, the HTML and the script link stay inert.
  await lead.page.getByTestId("guidelines-input").fill(
    "The **amount** is a number.\n\n<script>window.pwned = 1</script> <img src=x onerror=\"window.pwned = 2\"> [evil](javascript:window.pwned=3)",
  );
  await lead.page.getByTestId("settings-save").click();
  await expect(lead.page.getByTestId("settings-outcome")).toContainText("JSON Schema set");
  await expect(lead.page.getByTestId("settings-outcome")).toContainText("guidelines changed");
  // The existing output fails the new schema, and the report links to it.
  await expect(lead.page.getByTestId("failing-outputs")).toHaveText("1");
  await expect(lead.page.getByTestId("schema-report").locator(`a[href^="/calls/${id}"]`)).toBeVisible();
  await lead.context.close();

  const reviewer = await signedInAs(browser, "reviewer");
  const page = reviewer.page;
  await open(page, `/calls/${id}`);
  const guidelines = page.getByTestId("guidelines");
  await expect(guidelines).toContainText("Invoice amount as JSON");
  await expect(guidelines.locator(".guidelines-body strong")).toHaveText("amount");
  await expect(guidelines.locator("script, img")).toHaveCount(0);
  await expect(guidelines.locator('a[href^="javascript"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  // Collapsible: a reviewer who knows the rules folds them away.
  await guidelines.locator("summary").click();
  await expect(guidelines.locator(".guidelines-body")).toBeHidden();

  await page.getByTestId("verdict-incorrect").check();
  await page.getByTestId("editor").fill('{"amount": "12"}');
  // Checked as the reviewer types, before any save ...
  const live = page.getByTestId("live-check");
  await expect(live.getByTestId("violation-path")).toHaveText("/amount");
  await expect(live.getByTestId("violation")).toContainText("properties/amount/type");
  // ... and refused on save with the same path.
  await page.getByTestId("editor-save").click();
  await expect(page.locator(".editor-actions [data-testid=violation-path]")).toHaveText("/amount");
  await expect(page.getByTestId("editor-pane")).not.toContainText("Review #");
  await page.getByTestId("editor").fill('{"amount": 12}');
  await expect(live).toHaveText("Meets the operation's JSON Schema.");
  await page.getByTestId("editor-save").click();
  await expect(page.getByTestId("editor-result")).toHaveText("Saved as revision 1.");
  await reviewer.context.close();
});

test("a renamed tag shows its new name on a review saved before the rename", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_rename");
  const body = await ingest(request, [call({ operation, output: "Total: 40 EUR", minutesAgo: 1 })]);
  const id = body.results[0].id;
  const saved = await request.post(`/api/v1/calls/${id}/reviews`, {
    headers: authorization(),
    data: { verdict: "incorrect", corrected_output: "Total: 45 EUR", tags: ["amt"], base_revision: 0 },
  });
  expect(saved.status()).toBe(201);

  const lead = await signedInAs(browser, "lead");
  const page = lead.page;
  await open(page, `/operations/${operation}`);
  // The tag reviewers typed is in use but not listed: the lead lists it, then renames it.
  await page.getByTestId("list-tag").click();
  await expect(page.getByTestId("tags-outcome")).toContainText("tag amt listed");
  await page.getByTestId("tag-change").click();
  await page.getByTestId("rename-to").fill("wrong_amount");
  await page.getByTestId("rename").click();
  await expect(page.getByTestId("tags-outcome")).toContainText("amt renamed to wrong_amount (1 current review moved)");
  await expect(page.getByTestId("tag-row")).toContainText("wrong_amount");
  await expect(page.getByTestId("tag-aliases")).toHaveText("also: amt");

  await open(page, `/calls/${id}`);
  await expect(page.getByTestId("revision")).toContainText("tags: wrong_amount");
  // The feed's tag filter finds the old review under the new name.
  await open(page, `/calls?operation=${operation}&tag=wrong_amount`);
  await expect(page.getByTestId("call-row")).toHaveCount(1);
  await lead.context.close();
});

test("a skip with a reason is counted: the call page says so, and the skipper is not served it again today", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_skip");
  const body = await ingest(request, [call({ operation, output: "Depends on the contract terms.", minutesAgo: 1 })]);
  const id = body.results[0].id;

  const reviewer = await signedInAs(browser, "reviewer");
  const page = reviewer.page;
  await open(page, `/review?operation=${operation}`);
  await expect(page).toHaveURL(new RegExp(`call=${id}`));
  await page.getByTestId("skip-menu").locator("summary").click();
  await page.locator('[data-reason="needs_domain_knowledge"]').click();
  // The only call was skipped by this reviewer today: nothing left for them.
  await expect(page.getByTestId("queue-empty")).toBeVisible();
  await open(page, `/calls/${id}`);
  await expect(page.getByTestId("skips")).toHaveText("skipped 1×: needs domain knowledge");
  await reviewer.context.close();

  // Another reviewer is still served it; the lead sees the skip beside the sampled accuracy.
  const lead = await signedInAs(browser, "lead");
  await open(lead.page, `/review?operation=${operation}`);
  await expect(lead.page).toHaveURL(new RegExp(`call=${id}`));
  await open(lead.page, `/operations/${operation}`);
  await expect(lead.page.getByTestId("skip-rate")).toContainText("100%");
  await expect(lead.page.getByTestId("skips")).toContainText("needs domain knowledge");
  await expect(lead.page.getByTestId("skips")).toContainText("e2e-reviewer");
  await lead.context.close();
});

test("a 2 MB output is shown clipped and the page stays responsive", async ({ page, request }) => {
  const operation = uniqueOperation("e2e_long");
  const line = "The quick brown fox jumps over the lazy dog. ";
  const output = line.repeat(Math.ceil((2 * 1024 * 1024) / line.length));
  const body = await ingest(request, [call({ operation, output, minutesAgo: 1 })]);
  const started = Date.now();
  await open(page, `/calls/${body.results[0].id}`);
  // Hydrated and answering keys within a bound a reviewer would accept (measured ~1 s here).
  await page.keyboard.press("?");
  await expect(page.locator(".shortcuts")).toBeVisible();
  expect(Date.now() - started).toBeLessThan(8_000);
  await page.keyboard.press("?");
  await expect(page.locator(".shortcuts")).toBeHidden();
  await expect(page.getByTestId("clipped")).toContainText("Showing the first 100.0 KB of 2.0 MB");
  const shown = await page.getByTestId("call-output").evaluate((el) => el.textContent?.length ?? 0);
  expect(shown).toBeLessThanOrEqual(100 * 1024);
  // The editor still holds the whole text.
  const edited = await page.getByTestId("editor").evaluate((el) => (el as HTMLTextAreaElement).value.length);
  expect(edited).toBe(output.length);
  await page.getByTestId("show-all").click();
  await expect(page.getByTestId("clipped")).toHaveCount(0);
  expect(await page.getByTestId("call-output").evaluate((el) => el.textContent?.length ?? 0)).toBe(output.length);
});
