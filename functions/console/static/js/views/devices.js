// An app's devices, a page at a time, each revocable (never their tokens: the API has none to give).

import { seg } from "../api.js";
import { h, replace } from "../dom.js";
import { attempt, confirmDialog, notify, pager, table, when } from "../ui.js";
import { appTabs } from "./tabs.js";

/** A button that removes one device after asking; `removed()` runs once it is gone. */
export function revokeButton(api, device, slot, removed) {
  const button = h("button", { type: "button", class: "danger", "aria-label": `Revoke device ${device.device_id}` }, "Revoke");
  button.addEventListener("click", async () => {
    if (!(await confirmDialog(`Revoke device ${device.device_id}?`, "Revoke"))) return;
    const done = await attempt(slot, button, async () => {
      await api.delete(`/push/devices/${seg(device.device_id)}`);
      return true;
    });
    if (done) {
      notify(`Device ${device.device_id} revoked.`);
      removed();
    }
  });
  return button;
}

export function devicesView({ api, params }) {
  const appId = params.app;
  const slot = h("div");
  const summary = h("p", { class: "muted" });
  const list = h("div");
  let reloadPage = () => {};
  const paging = pager(async (cursor) => {
    const page = await attempt(slot, null, () => api.get(`/push/devices/${seg(appId)}`, { limit: 25, cursor }));
    if (!page) return null;
    reloadPage = () => paging.start();
    replace(summary, `${page.total.toLocaleString("en")} device${page.total === 1 ? "" : "s"} in all.`);
    replace(list, table(`Devices of ${appId}`, [
      ["Device", (d) => h("code", null, d.device_id)],
      ["User", (d) => d.user_id],
      ["Platform", (d) => d.platform],
      ["Registered", (d) => when(d.created_at)],
      ["Last seen", (d) => when(d.last_seen_at)],
      ["", (d) => revokeButton(api, d, slot, () => reloadPage())],
    ], page.devices, { empty: "No devices registered yet." }));
    return page.next_cursor;
  });
  paging.start();
  return { title: `Devices of ${appId}`, body: [appTabs(appId), summary, slot, list, paging.element] };
}
