import { expect, test } from "@playwright/test";
import { call, ingest, open, signedInAs, uniqueOperation } from "./helpers";

test("a lead turns an alert on; a bad webhook is explained; engineers see its state but never the URL", async ({ browser, request }) => {
  const operation = uniqueOperation("e2e_alert");
  await ingest(request, [call({ operation, output: "an answer", minutesAgo: 1 })]);

  const lead = await signedInAs(browser, "lead");
  const page = lead.page;
  await open(page, `/operations/${operation}`);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const form = page.getByTestId("alert-settings");
  await form.getByTestId("alert-enabled").check();
  await form.getByTestId("alert-window").fill("14");
  // A URL that is not http(s) is refused with the field named, and nothing is saved.
  await form.getByTestId("alert-webhook").fill("ftp://hooks.example.com/T0");
  await form.getByTestId("alert-save").click();
  await expect(page.getByTestId("alert-outcome")).toContainText("webhook_url");
  await expect(page.getByTestId("alert-outcome")).toContainText("http:// or https://");

  await form.getByTestId("alert-webhook").fill("https://hooks.example.com/services/T0-e2e-secret");
  await form.getByTestId("alert-format").selectOption("slack");
  await form.getByTestId("alert-save").click();
  await expect(page.getByTestId("alert-outcome")).toContainText("Alert saved: on, last 14 days, slack webhook to hooks.example.com");
  // The page reloaded its data: the form shows what is stored; no target yet, so it cannot fire.
  await expect(page.getByTestId("alert-webhook")).toHaveValue("https://hooks.example.com/services/T0-e2e-secret");
  await expect(page.getByTestId("alert-state")).toHaveText("no target: cannot fire");
  await expect(page.getByTestId("no-alerts")).toBeVisible();
  await lead.context.close();

  // An engineer's trends view shows the alert's state, and nowhere the webhook.
  const engineer = await signedInAs(browser, "engineer");
  await open(engineer.page, `/trends/${operation}`);
  await expect(engineer.page.getByTestId("alerts")).toContainText("Accuracy alert");
  expect(await engineer.page.content()).not.toContain("T0-e2e-secret");
  await engineer.context.close();
});
