// Operators' start page: every app, a page at a time, and a way to open (or create) one.

import { seg } from "../api.js";
import { h, replace } from "../dom.js";
import { attempt, badge, field, pager, table, when } from "../ui.js";

export function appLink(appId, suffix = "") {
  return h("a", { href: `/console/apps/${seg(appId)}${suffix}` }, appId);
}

export function appsView({ api, router }) {
  const slot = h("div");
  const list = h("div");
  const paging = pager(async (cursor) => {
    const page = await attempt(slot, null, () => api.get("/push/apps", { limit: 25, cursor }));
    if (!page) return null;
    replace(
      list,
      table("Apps", [
        ["App", (app) => appLink(app.app_id)],
        ["Push", (app) => badge(app.enabled && !app.suspended, "enabled", app.suspended ? "suspended" : "disabled", { bad: false })],
        ["Daily quota", (app) => app.daily_quota.toLocaleString("en"), { num: true }],
        ["Devices", (app) => app.device_count.toLocaleString("en"), { num: true }],
        ["Sent today", (app) => app.notifications_today.toLocaleString("en"), { num: true }],
        ["Updated", (app) => when(app.updated_at)],
      ], page.apps, { empty: "No apps yet: open one by its id below to create it." }),
    );
    return page.next_cursor;
  });
  const open = h("form", { class: "inline" },
    field("App id", { name: "app", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._:\\-]{0,127}", autocomplete: "off" }),
    h("button", { type: "submit" }, "Open"),
  );
  open.addEventListener("submit", (event) => {
    event.preventDefault();
    router.go(`/console/apps/${seg(new FormData(open).get("app").trim())}`);
  });
  paging.start();
  return {
    title: "Apps",
    body: [slot, list, paging.element, h("h2", null, "Open or create an app"), open],
  };
}
