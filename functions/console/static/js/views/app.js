// One app's Notifications page: push on or off, webhook and quota, the webhook secret
// (shown on demand, rotated), the VAPID key, its counters and the last 24 hours' deliveries.

import { seg } from "../api.js";
import { deliveriesChart } from "../chart.js";
import { h, replace } from "../dom.js";
import { attempt, badge, confirmDialog, errorBox, facts, field, notify, when } from "../ui.js";
import { appTabs } from "./tabs.js";

function pushSection(api, config, refresh) {
  const slot = h("div");
  const toggle = h("input", { type: "checkbox", role: "switch", id: "push-enabled", checked: config.enabled });
  toggle.addEventListener("change", async () => {
    const wanted = toggle.checked;
    const updated = await attempt(slot, toggle, () => api.patch(`/push/config/${seg(config.app_id)}`, { enabled: wanted }));
    if (updated) {
      notify(`Push ${updated.enabled ? "enabled" : "disabled"} for ${updated.app_id}.`);
      refresh(updated);
    } else {
      toggle.checked = !wanted;
    }
  });
  return h("section", { class: "panel", "aria-labelledby": "push-heading" },
    h("h2", { id: "push-heading" }, "Push"),
    h("label", { class: "switch", for: "push-enabled" }, toggle, "Push enabled"),
    config.suspended ? h("p", { class: "error" }, "An operator has suspended this app: it takes no registrations or sends.") : null,
    h("p", { class: "hint" }, "The first enable makes the app's VAPID key pair and webhook secret."),
    slot,
  );
}

function webhookSection(api, config, refresh) {
  const slot = h("div");
  const save = h("button", { type: "submit", id: "webhook-save" }, "Save");
  const form = h("form", { class: "stack" },
    field("Webhook URL", { type: "url", name: "webhook_url", value: config.webhook_url ?? "", placeholder: "https://example.com/pushgate-receipts", autocomplete: "off" },
      "Where signed delivery receipts go; empty for none."),
    field("Daily quota", { type: "number", name: "daily_quota", value: config.daily_quota, min: 1, max: config.max_daily_quota, required: true, inputmode: "numeric" },
      `Notifications per UTC day, at most ${config.max_daily_quota.toLocaleString("en")}.`),
    h("div", { class: "actions" }, save),
    slot,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { webhook_url: String(data.get("webhook_url")).trim() || null, daily_quota: Number(data.get("daily_quota")) };
    const updated = await attempt(slot, save, () => api.patch(`/push/config/${seg(config.app_id)}`, body));
    if (updated) {
      notify(`Saved: webhook ${updated.webhook_url ?? "none"}, daily quota ${updated.daily_quota.toLocaleString("en")}.`);
      refresh(updated);
    }
  });
  const status = config.webhook_status === "disabled"
    ? h("p", { class: "error" }, `Receipts are off: the webhook was disabled${config.webhook_disabled_reason ? ` (${config.webhook_disabled_reason})` : ""}. Save a URL to turn them on again.`)
    : null;
  return h("section", { class: "panel", "aria-labelledby": "webhook-heading" }, h("h2", { id: "webhook-heading" }, "Webhook and quota"), status, form);
}

function secretSection(api, config) {
  const slot = h("div");
  let secret = config.webhook_secret;
  const shown = h("span", { class: "secret", id: "webhook-secret" }, secret ? "•••••••• (hidden)" : "none yet: enable push to make one");
  const reveal = h("button", { type: "button", class: "secondary", "aria-pressed": "false", "aria-controls": "webhook-secret", disabled: !secret }, "Reveal secret");
  const rotate = h("button", { type: "button", class: "danger", disabled: !secret }, "Rotate secret");
  const validity = h("p", { class: "hint" });
  const hide = () => {
    reveal.setAttribute("aria-pressed", "false");
    reveal.textContent = "Reveal secret";
    replace(shown, "•••••••• (hidden)");
  };
  reveal.addEventListener("click", () => {
    if (reveal.getAttribute("aria-pressed") === "true") return hide();
    reveal.setAttribute("aria-pressed", "true");
    reveal.textContent = "Hide secret";
    replace(shown, secret);
  });
  rotate.addEventListener("click", async () => {
    if (!(await confirmDialog("Rotate the webhook secret?", "Rotate"))) return;
    const rotated = await attempt(slot, rotate, () => api.post(`/push/config/${seg(config.app_id)}/webhook-secret/rotate`));
    if (!rotated) return;
    secret = rotated.webhook_secret;
    reveal.setAttribute("aria-pressed", "true");
    reveal.textContent = "Hide secret";
    replace(shown, secret);
    replace(validity, rotated.previous_secret_valid_until ? `The previous secret keeps signing, alongside, until ${when(rotated.previous_secret_valid_until)}.` : "");
    notify("Webhook secret rotated.");
  });
  return h("section", { class: "panel", "aria-labelledby": "secret-heading" },
    h("h2", { id: "secret-heading" }, "Webhook secret"),
    h("p", null, "Receipts are signed with it (Standard Webhooks). ", shown),
    h("div", { class: "actions" }, reveal, rotate),
    validity,
    slot,
  );
}

function factsSection(config) {
  return h("section", { class: "panel", "aria-labelledby": "facts-heading" },
    h("h2", { id: "facts-heading" }, "Keys and counters"),
    facts([
      ["VAPID public key", config.vapid_public_key ? h("code", null, config.vapid_public_key) : "none yet"],
      ["Devices", config.device_count.toLocaleString("en")],
      ["Notifications today", `${config.notifications_today.toLocaleString("en")} of ${config.daily_quota.toLocaleString("en")}`],
      ["Issuer", config.issuer ?? "—"],
      ["Created", when(config.created_at)],
      ["Updated", when(config.updated_at)],
    ]),
  );
}

function statsSection(api, appId) {
  const body = h("div", null, h("p", null, "Loading…"));
  api.get(`/push/stats/${seg(appId)}`, { hours: 24 }).then(
    (stats) => replace(body, deliveriesChart(stats.hours, { title: `Deliveries of ${appId}, last 24 hours (UTC)` })),
    (error) => replace(body, errorBox(error)),
  );
  return h("section", { class: "panel", "aria-labelledby": "stats-heading" }, h("h2", { id: "stats-heading" }, "Deliveries, last 24 hours"), body);
}

function missingApp(api, appId, reload) {
  const slot = h("div");
  const create = h("button", { type: "button" }, "Create and enable");
  create.addEventListener("click", async () => {
    const created = await attempt(slot, create, () => api.patch(`/push/config/${seg(appId)}`, { enabled: true }));
    if (created) {
      notify(`App ${appId} created, push enabled.`);
      reload();
    }
  });
  return [h("p", null, `There is no app ${appId} yet.`), h("div", { class: "actions" }, create), slot];
}

export async function appView({ api, params, router }) {
  const appId = params.app;
  const content = h("div");
  const reload = () => router.go(location.pathname, { replace: true });
  const title = `App ${appId}`;
  let config;
  try {
    config = await api.get(`/push/config/${seg(appId)}`);
  } catch (error) {
    if (error.status === 404) return { title, body: [appTabs(appId), missingApp(api, appId, reload)] };
    return { title, body: [appTabs(appId), errorBox(error)] };
  }
  const draw = (current) => {
    const focused = document.activeElement?.id; // kept across the redraw a change causes
    replace(content,
      h("p", null, badge(current.enabled && !current.suspended, "push enabled", current.suspended ? "suspended" : "push disabled")),
      pushSection(api, current, draw),
      webhookSection(api, current, draw),
      secretSection(api, current),
      factsSection(current),
      statsSection(api, appId),
    );
    if (focused) document.getElementById(focused)?.focus();
  };
  draw(config);
  return { title, body: [appTabs(appId), content] };
}
