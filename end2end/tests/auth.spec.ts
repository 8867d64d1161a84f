import { expect, test } from "@playwright/test";
import { authorization, open, signedInAs, uniqueOperation } from "./helpers";

test("signing in and out; each role sees only what it may use", async ({ browser }) => {
  const anonymous = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await anonymous.newPage();
  await page.goto("/calls?operation=billing_extract");
  await expect(page).toHaveURL(/\/login\?next=%2Fcalls%3Foperation%3Dbilling_extract$/);

  await page.getByTestId("login-name").fill("e2e-reviewer");
  await page.getByTestId("login-password").fill("not the password");
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("login-error")).toContainText("do not match");

  await page.getByTestId("login-name").fill("e2e-reviewer");
  await page.getByTestId("login-password").fill("e2e-reviewer-password");
  await page.getByTestId("login-submit").click();
  await expect(page).toHaveURL(/\/calls\?operation=billing_extract$/);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("viewer")).toHaveText("e2e-reviewer");
  await expect(page.getByTestId("nav-keys")).toHaveCount(0);
  await expect(page.getByTestId("nav-admin")).toHaveCount(0);

  const forbidden = await page.goto("/admin");
  expect(forbidden?.status()).toBe(403);
  await expect(page.getByTestId("forbidden")).toContainText("reviewer");

  await page.goto("/calls");
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/calls");
  await expect(page).toHaveURL(/\/login\?next=/);
  await anonymous.close();
});

test("an engineer creates a key, sees it once, uses it, and revoking stops it at once", async ({ browser, request }) => {
  const { context, page } = await signedInAs(browser, "engineer");
  await expect(page.getByTestId("nav-keys")).toBeVisible();
  await expect(page.getByTestId("nav-admin")).toHaveCount(0);
  await open(page, "/keys");
  const name = uniqueOperation("svc");
  await page.getByTestId("key-name").fill(name);
  await page.getByTestId("scope-read").check();
  await page.getByTestId("key-create").click();
  const secret = (await page.getByTestId("key-secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^rl_[0-9a-f]{48}$/);

  const list = () => request.get("/api/v1/calls?limit=1", { headers: authorization(secret) });
  expect((await list()).status()).toBe(200);

  // Shown once: a reload lists the key by its prefix only.
  await open(page, "/keys");
  await expect(page.getByTestId("key-secret")).toHaveCount(0);
  const row = page.getByTestId("key-row").filter({ hasText: name });
  await expect(row).toContainText(secret.slice(0, 11));
  await expect(row).not.toContainText(secret);
  await row.getByTestId("key-revoke").click();
  await expect(page.getByTestId("key-row").filter({ hasText: name })).toContainText("revoked");
  expect((await list()).status()).toBe(401);
  await context.close();
});

test("the admin adds a user, and the audit log shows who did it", async ({ page }) => {
  const name = uniqueOperation("newbie");
  await open(page, "/admin");
  await page.getByTestId("user-name").fill(name);
  await page.getByTestId("user-role").selectOption("lead");
  await page.getByTestId("user-add").click();
  await expect(page.getByTestId("user-password")).toHaveText(/^\S{20}$/);
  await expect(page.getByTestId("user-row").filter({ hasText: name })).toBeVisible();

  await open(page, "/admin/audit?action=user");
  const entry = page.getByTestId("audit-row").filter({ hasText: name }).first();
  await expect(entry).toContainText("user.add");
  await expect(entry).toContainText("admin");
  await expect(entry).toContainText("role lead");
});

test("without JavaScript the admin adds a user and creates and revokes a key", async ({ browser, request }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: "../target/e2e/admin.json" });
  const page = await context.newPage();
  const name = uniqueOperation("nojs");
  await page.goto("/admin");
  await page.getByTestId("user-name").fill(name);
  await page.getByTestId("user-role").selectOption("engineer");
  await page.getByTestId("user-add").click();
  await expect(page.getByTestId("once")).toContainText(`Added ${name} as engineer.`);
  await expect(page.getByTestId("once-secret")).toHaveText(/^\S{20}$/);
  await page.getByRole("link", { name: "Back to users" }).click();
  const row = page.getByTestId("user-row").filter({ hasText: name });
  await row.getByTestId("user-toggle").click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByTestId("user-row").filter({ hasText: name })).toContainText("disabled");

  const key = uniqueOperation("nojs-key");
  await page.goto("/keys");
  await page.getByTestId("key-name").fill(key);
  await page.getByTestId("scope-read").check();
  await page.getByTestId("key-create").click();
  const secret = (await page.getByTestId("once-secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^rl_[0-9a-f]{48}$/);
  const list = () => request.get("/api/v1/calls?limit=1", { headers: authorization(secret) });
  expect((await list()).status()).toBe(200);
  await page.getByRole("link", { name: "Back to API keys" }).click();
  await page.getByTestId("key-row").filter({ hasText: key }).getByTestId("key-revoke").click();
  await expect(page.getByTestId("key-row").filter({ hasText: key })).toContainText("revoked");
  expect((await list()).status()).toBe(401);
  await context.close();
});
