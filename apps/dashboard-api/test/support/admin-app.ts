// The setup of the admin API's test files: a test app and an administrator logged in to it.
//   let app: TestApp; let admin: Admin;
//   beforeAll(async () => ({ app, admin } = await startAdminApp()));
//   afterAll(() => app.stop());
import { createLoggedInUser } from './factories.ts';
import { startTestApp, type TestApp } from './test-app.ts';

export type Admin = Awaited<ReturnType<typeof createLoggedInUser>>;

export async function startAdminApp(): Promise<{ app: TestApp; admin: Admin }> {
  const app = await startTestApp();
  return { app, admin: await createLoggedInUser(app.db, app.url, { role: 'admin' }) };
}
