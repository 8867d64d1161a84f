import { expect, test } from "@playwright/test";
import { authorization, call, ingest, open, rows, uniqueOperation } from "./helpers";

test("calls ingested through the API appear in the feed, newest first", async ({ page, request }) => {
  const operation = uniqueOperation("e2e_appear");
  await ingest(request, [
    call({ operation, output: "oldest answer", minutesAgo: 30 }),
    call({ operation, output: "newest answer", minutesAgo: 1 }),
    call({ operation, output: "middle answer", minutesAgo: 10 }),
  ]);
  await open(page, `/calls?operation=${operation}`);
  await expect(rows(page)).toHaveCount(3);
  await expect(page.getByTestId("preview")).toHaveText(["newest answer", "middle answer", "oldest answer"]);
  await expect(page.getByTestId("count-all")).toHaveText("3");
  await expect(page.getByTestId("count-unreviewed")).toHaveText("3");

  // The row opens the call, with its conversation and output.
  await page.getByText("middle answer").click();
  // The feed's filter rides along, so "next" on the call page walks this feed.
  await expect(page).toHaveURL(new RegExp(`/calls/[0-9a-f-]{36}\\?operation=${operation}$`));
  await expect(page.getByTestId("call-output")).toHaveText("middle answer");
  await expect(page.getByText("Answer briefly.")).toBeVisible();
});

test("each filter narrows the feed and lands in the URL; back and forward work", async ({ page, request }) => {
  const operation = uniqueOperation("e2e_filter");
  const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
  await ingest(request, [
    call({ operation, output: "alpha from gpt", minutesAgo: 5 }),
    call({ operation, output: "beta from claude", minutesAgo: 6, model: "claude-sonnet", model_version: "4-20250514" }),
    call({ operation, output: "gamma newer gpt", minutesAgo: 7, model_version: "2024-11-20" }),
    call({ operation, output: "delta last month", minutesAgo: 60 * 24 * 30 }),
  ]);

  // Operation, chosen in the filter bar.
  await open(page, "/calls");
  await page.getByTestId("filter-operation").selectOption(operation);
  await expect(page).toHaveURL(new RegExp(`operation=${operation}`));
  expect(new URL(page.url()).search).toBe(`?operation=${operation}`);
  await expect(rows(page)).toHaveCount(4);

  // Model.
  await page.getByTestId("filter-model").selectOption("claude-sonnet");
  await expect(page).toHaveURL(/model=claude-sonnet/);
  await expect(page.getByTestId("preview")).toHaveText(["beta from claude"]);

  // Back returns to the operation alone; forward to the model again.
  await page.goBack();
  await expect(page).not.toHaveURL(/model=claude/);
  await expect(rows(page)).toHaveCount(4);
  await page.goForward();
  await expect(page.getByTestId("preview")).toHaveText(["beta from claude"]);
  await page.goBack();
  await expect(rows(page)).toHaveCount(4);

  // Model version.
  await page.getByTestId("filter-model-version").selectOption("2024-11-20");
  await expect(page).toHaveURL(/model_version=2024-11-20/);
  await expect(page.getByTestId("preview")).toHaveText(["gamma newer gpt"]);

  // Date range: the last week leaves out last month's call.
  await open(page, `/calls?operation=${operation}`);
  await page.getByTestId("filter-from").fill(day(7));
  await page.getByTestId("filter-to").fill(day(0));
  await page.getByTestId("filter-apply").click();
  await expect(page).toHaveURL(new RegExp(`from=${day(7)}`));
  await expect(page).toHaveURL(new RegExp(`to=${day(0)}`));
  await expect(rows(page)).toHaveCount(3);

  // Full-text search over input and output.
  await open(page, `/calls?operation=${operation}`);
  await page.getByTestId("filter-q").fill("gamma");
  await page.getByTestId("filter-q").press("Enter");
  await expect(page).toHaveURL(/q=gamma/);
  await expect(page.getByTestId("preview")).toHaveText(["gamma newer gpt"]);

  // A copied link reproduces the view.
  const link = page.url();
  const other = await page.context().newPage();
  await open(other, link);
  await expect(other.getByTestId("preview")).toHaveText(["gamma newer gpt"]);
  await expect(other.getByTestId("filter-q")).toHaveValue("gamma");
});

test("verdict tabs and the tag filter narrow reviewed demo calls", async ({ page }) => {
  await open(page, "/calls?operation=billing_extract");
  const all = Number((await page.getByTestId("count-all").innerText()).replace(/,/g, ""));
  const incorrect = Number((await page.getByTestId("count-incorrect").innerText()).replace(/,/g, ""));
  expect(all).toBeGreaterThan(incorrect);
  expect(incorrect).toBeGreaterThan(0);

  await page.getByTestId("tab-incorrect").click();
  await expect(page).toHaveURL(/verdict=incorrect/);
  await expect(page.getByTestId("tab-incorrect")).toHaveAttribute("aria-current", "page");
  const badges = page.locator("[data-testid=call-row] .badge");
  await expect(badges.first()).toHaveText("Incorrect");
  expect(await page.locator("[data-testid=call-row] [data-verdict=correct]").count()).toBe(0);
  expect(await page.locator("[data-testid=call-row] [data-verdict=unreviewed]").count()).toBe(0);

  await page.getByTestId("filter-tag").selectOption("wrong_amount");
  await expect(page).toHaveURL(/tag=wrong_amount/);
  await expect(page).toHaveURL(/verdict=incorrect/);
  const tagged = await rows(page).count();
  expect(tagged).toBeGreaterThan(0);
  expect(tagged).toBeLessThanOrEqual(incorrect);
});

test("paging walks every call once with Older, and Newest returns", async ({ page, request }) => {
  const operation = uniqueOperation("e2e_paging");
  const calls = Array.from({ length: 120 }, (_, i) => call({ operation, output: `paged call ${i}`, minutesAgo: i }));
  await ingest(request, calls);
  await open(page, `/calls?operation=${operation}`);

  const seen: string[] = [];
  for (const expected of [50, 50, 20]) {
    // The new page has replaced the old one (the URL changes before the rows do).
    await expect(page.getByTestId("preview").first()).toHaveText(`paged call ${seen.length}`);
    await expect(rows(page)).toHaveCount(expected);
    seen.push(...(await page.getByTestId("preview").allInnerTexts()));
    if (seen.length < 120) {
      await page.getByTestId("older").click();
      await expect(page).toHaveURL(/cursor=/);
    }
  }
  await expect(page.getByTestId("older")).toHaveCount(0);
  expect(seen).toEqual(Array.from({ length: 120 }, (_, i) => `paged call ${i}`));

  await page.getByTestId("newest").click();
  await expect(page).not.toHaveURL(/cursor=/);
  await expect(page.getByTestId("preview").first()).toHaveText("paged call 0");
});

test("a corpus of hostile inputs and outputs renders as text everywhere, never as HTML", async ({ page, request }) => {
  const operation = uniqueOperation("e2e_hostile");
  const payloads = [
    "<script>window.__pwned = 1; alert('xss')</script>",
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\">",
    "<svg onload=alert(3)><a href=\"javascript:alert(4)\">click</a></svg>",
    "<iframe src=\"javascript:alert(5)\"></iframe>",
    "<a href=\"javascript:window.__pwned=6\">link</a> and <details open ontoggle=alert(7)>",
    "[click me](javascript:alert(8)) ![x](x \"onerror=alert(9)\")",
    "\"><body onload=alert(10)><style>*{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(11)>",
    "\u202Egnp.exe \u200B<scr\u200Bipt>alert(12)</script> ＜script＞alert(13)＜/script＞",
    "{{constructor.constructor('alert(14)')()}} ${alert(15)} <!--<img src=x onerror=alert(16)>-->",
  ];
  const violations: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) violations.push(message.text());
  });
  const body = await ingest(
    request,
    payloads.map((output, i) =>
      call({
        operation,
        output,
        minutesAgo: i,
        input: [
          { role: "system", content: payloads[(i + 1) % payloads.length] },
          { role: "user", content: payloads[(i + 2) % payloads.length] },
        ],
      }),
    ),
  );
  let dialogs = 0;
  page.on("dialog", async (dialog) => {
    dialogs += 1;
    await dialog.dismiss();
  });
  const injected = "main img, main svg, main script, main iframe, main style, main math, main details:not(.metadata):not(.revision-diff):not(.queue-filters):not(.skip-menu):not(.guidelines), main a[href^='javascript']";

  await open(page, `/calls?operation=${operation}`);
  await expect(page.getByTestId("preview")).toHaveCount(payloads.length);
  await expect(page.getByTestId("preview").first()).toHaveText(payloads[0]);
  expect(await page.locator(injected).count()).toBe(0);

  for (const index of [1, 4, 7, 9]) {
    await open(page, `/calls?operation=${operation}`);
    await page.getByTestId("preview").nth(index).click();
    await expect(page.getByTestId("call-output")).toHaveText(payloads[index]);
    await expect(page.getByText(payloads[(index + 2) % payloads.length], { exact: true })).toBeVisible();
    expect(await page.locator(injected).count()).toBe(0);
  }
  // Reviews carry hostile text too: a correction and a note, shown in the editor, the
  // history and its diff.
  const target = body.results[3].id;
  const saved = await request.post(`/api/v1/calls/${target}/reviews`, {
    data: { verdict: "incorrect", corrected_output: `${payloads[0]} fixed`, tags: ["xss"], note: payloads[1], base_revision: 0 },
    headers: authorization(),
  });
  expect(saved.status()).toBe(201);
  await open(page, `/calls/${target}`);
  await expect(page.getByTestId("editor")).toHaveValue(`${payloads[0]} fixed`);
  await page.locator(".revision-diff summary").first().click();
  await expect(page.locator(".revision-diff ins").last()).toContainText("fixed");
  await expect(page.locator(".revision-note")).toHaveText(payloads[1]);
  expect(await page.locator(injected).count()).toBe(0);
  // The review queue serves them as text as well.
  await open(page, `/review?operation=${operation}`);
  await expect(page.getByTestId("call-output")).toBeVisible();
  expect(await page.locator(injected).count()).toBe(0);

  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(dialogs).toBe(0);
  expect(violations).toEqual([]);
});

test("a wrong filter value in the URL explains itself", async ({ page }) => {
  await open(page, "/calls?verdict=maybe");
  await expect(page.getByTestId("bad-filter")).toContainText("maybe");
  await expect(page.getByTestId("bad-filter")).toContainText("verdict");
});

test("without JavaScript the feed renders and the filter form still works", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_nojs");
  await ingest(request, [
    call({ operation, output: "plain html works", minutesAgo: 1 }),
    call({ operation, output: "other model", minutesAgo: 2, model: "claude-sonnet", model_version: "4-20250514" }),
  ]);
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: "../target/e2e/admin.json" });
  const page = await context.newPage();
  await page.goto(`/calls?operation=${operation}`);
  await expect(rows(page)).toHaveCount(2);
  await page.getByTestId("filter-model").selectOption("claude-sonnet");
  await page.getByTestId("filter-apply").click();
  await expect(page).toHaveURL(/model=claude-sonnet/);
  await expect(page.getByTestId("preview")).toHaveText(["other model"]);
  await context.close();
});
