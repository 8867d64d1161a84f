import { expect, test } from "@playwright/test";
import { authorization, call, ingest, open, rows, signedInAs, uniqueOperation } from "./helpers";

test("keyboard review from the feed: open, mark incorrect, edit, diff, save and land on the next call", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_keys");
  const body = await ingest(request, [
    call({ operation, output: "Older call output.", minutesAgo: 3 }),
    call({ operation, output: "Total due: 40 EUR.", minutesAgo: 1 }),
  ]);
  const [older, newer] = body.results.map((r: { id: string }) => r.id);
  const { context, page } = await signedInAs(browser, "reviewer");
  await open(page, `/calls?operation=${operation}&verdict=unreviewed`);

  // j selects the first row, Enter opens it.
  await page.keyboard.press("j");
  await expect(rows(page).first()).toHaveClass(/selected/);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/calls/${newer}\\?operation=${operation}&verdict=unreviewed$`));
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");

  // x marks it incorrect and puts the cursor in the editor; letters typed there stay text.
  await page.keyboard.press("x");
  await expect(page.getByTestId("verdict-incorrect")).toBeChecked();
  await expect(page.getByTestId("editor")).toBeFocused();
  await page.getByTestId("editor").fill("");
  await page.keyboard.type("Total due: 45 EUR, checked.");
  await expect(page.getByTestId("verdict-incorrect")).toBeChecked();
  // Esc leaves the editor; d shows the diff.
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("editor")).not.toBeFocused();
  await page.keyboard.press("d");
  await expect(page.locator("[data-testid=diff] del").first()).toHaveText("40");
  await expect(page.locator("[data-testid=diff] ins").first()).toHaveText("45 EUR,");

  // Ctrl+Enter saves and goes on to the next call of this feed.
  await page.getByTestId("editor").focus();
  await page.keyboard.press("Control+Enter");
  await expect(page).toHaveURL(new RegExp(`/calls/${older}\\?`));
  await expect(page.getByTestId("call-output")).toHaveText("Older call output.");

  // The feed shows the verdict and who gave it; the unreviewed tab no longer lists the call.
  await open(page, `/calls?operation=${operation}`);
  const saved = rows(page).filter({ hasText: "Total due: 40 EUR." });
  await expect(saved).toContainText("Incorrect");
  await expect(saved).toContainText("e2e-reviewer");
  await open(page, `/calls?operation=${operation}&reviewer=e2e-reviewer`);
  await expect(rows(page)).toHaveCount(1);
  await context.close();
});

test("the review queue draws every unreviewed call once, saves them as sampled, then says it is done", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_queue");
  const outputs = ["queue one", "queue two", "queue three"];
  const body = await ingest(request, outputs.map((output, i) => call({ operation, output, minutesAgo: i + 1 })));
  const ids: string[] = body.results.map((r: { id: string }) => r.id);
  const { context, page } = await signedInAs(browser, "lead");
  await open(page, `/calls?operation=${operation}`);
  await page.getByTestId("open-queue").click();
  await expect(page).toHaveURL(new RegExp(`/review\\?operation=${operation}`));

  const seen = new Set<string>();
  for (let i = 0; i < outputs.length; i++) {
    // The drawn call is named in the URL, so reload and back return to it.
    await expect(page).toHaveURL(/call=/);
    const id = (await page.getByTestId("call-id").textContent()) ?? "";
    expect(ids).toContain(id);
    expect(seen.has(id)).toBe(false);
    seen.add(id);
    await page.keyboard.press("c");
    await expect(page.getByTestId("verdict-correct")).toBeChecked();
    await page.keyboard.press("Control+Enter");
    if (i < outputs.length - 1) {
      await expect(page.getByTestId("call-id")).not.toHaveText(id);
    }
  }
  // All reviewed: the queue says so instead of serving a reviewed call.
  await expect(page.getByTestId("queue-empty")).toBeVisible();

  for (const id of ids) {
    const response = await request.get(`/api/v1/calls/${id}`, { headers: authorization() });
    const detail = await response.json();
    expect(detail.review.verdict).toBe("correct");
    expect(detail.review.sampled).toBe(true);
    expect(detail.review.reviewer).toBe("e2e-lead");
  }
  await context.close();
});

test("unsaved review text survives a reload until it is discarded; shortcuts are listed under ?", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_draft");
  const body = await ingest(request, [call({ operation, output: "draft me", minutesAgo: 1 })]);
  const { context, page } = await signedInAs(browser, "reviewer");
  await open(page, `/calls/${body.results[0].id}`);
  await page.getByTestId("verdict-incorrect").check();
  await page.getByTestId("editor").fill("half-written correction");
  await expect(page.getByTestId("editor-unsaved")).toBeVisible();

  // Following a link asks first; staying keeps the text where it was.
  let asked = "";
  page.once("dialog", async (dialog) => {
    asked = dialog.message();
    await dialog.dismiss();
  });
  await page.getByTestId("back").click();
  await expect.poll(() => asked).toContain("unsaved review");
  await expect(page).toHaveURL(/\/calls\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("editor")).toHaveValue("half-written correction");

  // A reload (the browser may ask too: accept) brings the draft back.
  page.once("dialog", (dialog) => dialog.accept());
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("editor")).toHaveValue("half-written correction");
  await expect(page.getByTestId("verdict-incorrect")).toBeChecked();
  await expect(page.getByTestId("editor-notice")).toContainText("restored");

  await page.getByTestId("editor-discard").click();
  await expect(page.getByTestId("editor")).toHaveValue("draft me");
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("editor")).toHaveValue("draft me");

  await page.keyboard.press("?");
  await expect(page.getByTestId("shortcuts")).toContainText("Save the review and go to the next call");
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("shortcuts")).toHaveCount(0);
  await context.close();
});

test("an earlier revision is restored as a new one, and tags come from the operation's list", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_restore");
  const body = await ingest(request, [call({ operation, output: "original answer", minutesAgo: 1 })]);
  const id = body.results[0].id;
  const save = (data: object) =>
    request.post(`/api/v1/calls/${id}/reviews`, { data, headers: authorization() });
  expect((await save({ verdict: "incorrect", corrected_output: "first fix", tags: ["format"], note: "", base_revision: 0 })).status()).toBe(201);
  expect((await save({ verdict: "incorrect", corrected_output: "second fix", tags: [], note: "", base_revision: 1 })).status()).toBe(201);

  const { context, page } = await signedInAs(browser, "reviewer");
  await open(page, `/calls/${id}`);
  await expect(page.getByTestId("editor")).toHaveValue("second fix");
  // Revision 2 is diffed against revision 1, not against the original.
  await expect(page.getByTestId("revision").first()).toContainText("against revision #1");
  await page.getByTestId("restore").first().click();
  await expect(page.getByTestId("editor")).toHaveValue("first fix");
  await expect(page.getByTestId("editor-tags")).toHaveValue("format");
  // The operation's tag list is offered; picking toggles the tag.
  const chip = page.getByTestId("tag-chip").filter({ hasText: "format" });
  await expect(chip).toHaveAttribute("aria-pressed", "true");
  await chip.click();
  await expect(page.getByTestId("editor-tags")).toHaveValue("");
  await chip.click();
  await page.getByTestId("editor-save").click();
  await expect(page.getByTestId("editor-result")).toHaveText("Saved as revision 3.");
  await expect(page.getByTestId("editor")).toHaveValue("first fix");
  await expect(page.getByTestId("revision")).toHaveCount(3);
  await context.close();
});
