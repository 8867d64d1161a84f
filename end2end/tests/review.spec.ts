import { expect, test } from "@playwright/test";
import { call, ingest, open, signedInAs, uniqueOperation } from "./helpers";

test("a reviewer corrects an output; a stale save elsewhere is refused with its text kept", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_review");
  const body = await ingest(request, [call({ operation, output: "The refund is $40.", minutesAgo: 1 })]);
  const id = body.results[0].id;

  // Two reviewers open the same call (revision 0).
  const first = await signedInAs(browser, "reviewer");
  const second = await signedInAs(browser, "lead");
  await open(second.page, `/calls/${id}`);
  await open(first.page, `/calls?operation=${operation}`);
  await first.page.getByText("The refund is $40.").click();
  await expect(first.page).toHaveURL(new RegExp(`/calls/${id}\\?operation=${operation}$`));
  await expect(first.page.getByTestId("editor")).toHaveValue("The refund is $40.");

  await first.page.getByTestId("verdict-incorrect").check();
  await first.page.getByTestId("editor").fill("The refund is $45, paid to the original card.");
  await first.page.getByTestId("editor-tags").fill("wrong_amount");
  // The diff beside the editor shows what changed, word by word.
  await first.page.getByTestId("diff-toggle").click();
  await expect(first.page.locator("[data-testid=diff] del")).toContainText("$40.");
  await expect(first.page.locator("[data-testid=diff] ins")).toContainText("$45, paid to the original card.");
  await first.page.getByTestId("editor-save").click();
  await expect(first.page.getByTestId("editor-result")).toHaveText("Saved as revision 1.");
  await expect(first.page.getByTestId("editor-pane")).toContainText("Review #1 · e2e-reviewer");
  // The saved correction's diff is in the history.
  await first.page.locator(".revision-diff summary").first().click();
  await expect(first.page.locator(".revision-diff ins").first()).toContainText("$45");

  // The other reviewer still sees revision 0: their save is refused, their text stays.
  await second.page.getByTestId("verdict-incorrect").check();
  await second.page.getByTestId("editor").fill("My own correction.");
  await second.page.getByTestId("editor-save").click();
  await expect(second.page.getByTestId("editor-result")).toContainText("revision 1 was saved by e2e-reviewer");
  await expect(second.page.getByTestId("editor")).toHaveValue("My own correction.");
  // Saving again now builds on revision 1.
  await second.page.getByTestId("editor-save").click();
  await expect(second.page.getByTestId("editor-result")).toHaveText("Saved as revision 2.");

  // The feed shows the verdict and who gave it.
  await open(first.page, `/calls?operation=${operation}`);
  await expect(first.page.getByTestId("call-row").first()).toContainText("e2e-lead");
  await first.context.close();
  await second.context.close();
});

test("an invalid review says why and saves nothing", async ({ page, request }) => {
  const operation = uniqueOperation("e2e_invalid");
  const body = await ingest(request, [call({ operation, output: "unchanged", minutesAgo: 1 })]);
  await open(page, `/calls/${body.results[0].id}`);
  await page.getByTestId("verdict-incorrect").check();
  await page.getByTestId("editor-save").click();
  await expect(page.getByTestId("editor-result")).toContainText("same as the original");
  await expect(page.getByTestId("editor-pane")).not.toContainText("Review #");
});

test("without JavaScript the review form still saves", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_review_nojs");
  const body = await ingest(request, [call({ operation, output: "needs work", minutesAgo: 1 })]);
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: "../target/e2e/admin.json" });
  const page = await context.newPage();
  await page.goto(`/calls/${body.results[0].id}`);
  await page.getByTestId("verdict-incorrect").check();
  await page.getByTestId("editor").fill("fixed without scripts");
  await page.getByTestId("editor-save").click();
  await page.goto(`/calls/${body.results[0].id}`);
  await expect(page.getByTestId("editor-pane")).toContainText("Review #1 · admin");
  await expect(page.getByTestId("editor")).toHaveValue("fixed without scripts");
  await context.close();
});
