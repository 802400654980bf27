// A test notification to one user of the app, as its backend would send it.

import { seg } from "../api.js";
import { h, replace } from "../dom.js";
import { attempt, field, notify } from "../ui.js";
import { appTabs } from "./tabs.js";

export function sendView({ api, auth, params }) {
  const appId = params.app;
  const slot = h("div");
  const result = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Send test");
  const form = h("form", { class: "stack" },
    field("User id", { name: "user_id", required: true, autocomplete: "off" }, "Every device of this user gets it."),
    field("Title", { name: "title", required: true, value: "Test from the pushgate console", maxlength: 256 }),
    field("Body", { tag: "textarea", name: "body", required: true, rows: 3, value: "If you read this, delivery works." }),
    field("Link (optional)", { type: "url", name: "url", placeholder: "https://example.com/" }, "Opened when the notification is tapped."),
    h("div", { class: "actions" }, submit),
    slot,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { user_id: String(data.get("user_id")).trim(), title: String(data.get("title")), body: String(data.get("body")) };
    if (String(data.get("url")).trim()) body.url = String(data.get("url")).trim();
    // Admin tokens name the app they send as; an app's own token is the app.
    const query = auth.role === "admin" ? { app_id: appId } : undefined;
    const accepted = await attempt(slot, submit, () => api.post("/push/send", body, query));
    if (!accepted) return;
    notify(`Accepted: notification ${accepted.notification_id}.`);
    replace(result, h("p", null, "Accepted as ", h("code", null, accepted.notification_id), ". ",
      h("a", { href: `/console/apps/${seg(appId)}/status?notification=${encodeURIComponent(accepted.notification_id)}` }, "See its delivery status")));
  });
  return { title: `Test send for ${appId}`, body: [appTabs(appId), form, result] };
}
