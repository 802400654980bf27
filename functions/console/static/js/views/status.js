// A notification's delivery status, device by device.

import { seg } from "../api.js";
import { h, replace } from "../dom.js";
import { attempt, facts, field, table, when } from "../ui.js";
import { appTabs } from "./tabs.js";

const STATUS_TEXT = { queued: "queued", delivered: "delivered", failed: "failed", invalid_token: "invalid token (device removed)", expired: "expired" };

export function statusView({ api, params }) {
  const appId = params.app;
  const slot = h("div");
  const result = h("div", { "aria-live": "polite" });
  const wanted = new URLSearchParams(location.search).get("notification") ?? "";
  const submit = h("button", { type: "submit" }, "Look up");
  const form = h("form", { class: "inline" },
    field("Notification id", { name: "notification", required: true, value: wanted, autocomplete: "off" }),
    submit,
  );
  async function lookUp(id) {
    const status = await attempt(slot, submit, () => api.get(`/push/notifications/${seg(id)}`));
    if (!status) return replace(result);
    const refresh = h("button", { type: "button", class: "secondary", onclick: () => lookUp(id) }, "Refresh");
    return replace(result,
      h("h2", null, "Notification ", h("code", null, status.notification_id)),
      facts([["App", status.app_id], ["User", status.user_id], ["Created", when(status.created_at)]]),
      table("Deliveries", [
        ["Device", (d) => h("code", null, d.device_id)],
        ["Platform", (d) => d.platform],
        ["Status", (d) => h("span", { "data-status": d.status }, STATUS_TEXT[d.status] ?? d.status)],
        ["Error", (d) => d.error ?? "—"],
        ["Attempts", (d) => d.attempts, { num: true }],
        ["Updated", (d) => when(d.updated_at)],
      ], status.deliveries, { empty: "No delivery attempt yet: the notification is queued." }),
      h("div", { class: "actions" }, refresh),
    );
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = String(new FormData(form).get("notification")).trim();
    history.replaceState(null, "", `${location.pathname}?notification=${encodeURIComponent(id)}`);
    lookUp(id);
  });
  if (wanted) lookUp(wanted);
  return { title: `Delivery status, ${appId}`, body: [appTabs(appId), form, slot, result] };
}
