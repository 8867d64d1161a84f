import { FullConfig, request } from "@playwright/test";

/** Signs the admin in once and keeps the session cookie for every test's browser context. */
export default async function setup(config: FullConfig) {
  const baseURL = config.projects[0].use.baseURL;
  const context = await request.newContext({ baseURL });
  const response = await context.post("/auth/login", {
    form: { name: "admin", password: "e2e-admin-password", next: "/calls" },
    maxRedirects: 0,
  });
  if (response.status() !== 303 || !(response.headers()["location"] ?? "").startsWith("/calls")) {
    throw new Error(`admin sign-in failed: ${response.status()} ${response.headers()["location"]}`);
  }
  await context.storageState({ path: "../target/e2e/admin.json" });
  await context.dispose();
}
