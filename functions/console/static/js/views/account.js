// End users: their devices in every app (each revocable), this browser's subscription, and
// their private ntfy channel where the deployment offers one.

import { seg } from "../api.js";
import { h, replace } from "../dom.js";
import { attempt, confirmDialog, errorBox, facts, field, notify, table, when } from "../ui.js";
import { revokeButton } from "./devices.js";

const WEB_CLIENT = "/console/lib/pushgate.js";
const WORKER = "/console/pushgate-sw.js";

function audiences(auth) {
  const aud = auth.claims.aud;
  return (Array.isArray(aud) ? aud : aud ? [aud] : []).filter((value) => typeof value === "string");
}

function subscribeCard(context, apps, reload) {
  const { auth, config } = context;
  const slot = h("div");
  const state = h("p", { class: "hint" });
  const submit = h("button", { type: "submit" }, "Subscribe this browser");
  const choices = apps.map((app) => h("option", { value: app }, app));
  const form = h("form", { class: "inline" },
    apps.length ? field("App", { tag: "select", name: "app" }, null, choices) : field("App id", { name: "app", required: true }),
    submit,
  );
  const load = () => {
    if (!config.web_client) return Promise.reject(new Error("this deployment's console carries no web client (clients/web/ is not packaged)"));
    return import(WEB_CLIENT);
  };
  if (config.web_client) {
    load().then(async (client) => replace(state, `Notification permission: ${await client.permissionState()}.`), (error) => replace(state, errorBox(error)));
  } else {
    submit.disabled = true;
    replace(state, "This deployment's console carries no web client, so it cannot subscribe this browser.");
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const appId = String(new FormData(form).get("app")).trim();
    const done = await attempt(slot, submit, async () => {
      const client = await load();
      const result = await client.subscribe({ apiBase: config.api_base, appId, getToken: async () => auth.token, swUrl: WORKER });
      replace(state, `Notification permission: ${await client.permissionState()}.`);
      return result ?? true;
    });
    if (done) {
      notify(`This browser is subscribed to ${appId}.`);
      reload();
    }
  });
  return h("section", { class: "panel", "aria-labelledby": "browser-heading" },
    h("h2", { id: "browser-heading" }, "This browser"),
    h("p", null, "Get this app's notifications here, as a Web Push subscription."),
    state, form, slot);
}

function ntfyCard(api, appId) {
  const slot = h("div");
  const body = h("div", null, h("p", null, "Loading…"));
  const section = h("section", { class: "panel", "aria-labelledby": `ntfy-${appId}` },
    h("h2", { id: `ntfy-${appId}` }, `Private ntfy channel, ${appId}`), body, slot);
  const path = `/push/ntfy/${seg(appId)}`;
  const show = (channel) => {
    let revealed = false;
    const password = h("span", { class: "secret" }, "•••••••• (hidden)");
    const reveal = h("button", { type: "button", class: "secondary", "aria-pressed": "false", onclick: () => {
      revealed = !revealed;
      reveal.setAttribute("aria-pressed", String(revealed));
      reveal.textContent = revealed ? "Hide password" : "Show password";
      replace(password, revealed ? channel.password : "•••••••• (hidden)");
    } }, "Show password");
    const test = h("button", { type: "button", class: "secondary" }, "Send a test");
    test.addEventListener("click", async () => {
      if (await attempt(slot, test, () => api.post(`${path}/test`))) notify(`Test sent to your ntfy channel for ${appId}.`);
    });
    const disable = h("button", { type: "button", class: "danger" }, "Disable");
    disable.addEventListener("click", async () => {
      if (!(await confirmDialog(`Remove your ntfy channel for ${appId}?`, "Remove"))) return;
      const done = await attempt(slot, disable, async () => {
        await api.delete(path);
        return true;
      });
      if (done) {
        notify(`Your ntfy channel for ${appId} is removed.`);
        offer();
      }
    });
    replace(body,
      facts([["Server", h("code", null, channel.server_url)], ["Topic", h("code", null, channel.topic)], ["Username", h("code", null, channel.username)], ["Password", password]]),
      h("div", { class: "actions" }, reveal, test, disable));
  };
  const offer = () => {
    const enable = h("button", { type: "button" }, "Enable a private channel");
    enable.addEventListener("click", async () => {
      const channel = await attempt(slot, enable, () => api.post(path));
      if (channel) {
        notify(`Your ntfy channel for ${appId} is ready: subscribe to it in the ntfy app.`);
        show(channel);
      }
    });
    replace(body, h("p", null, "An ntfy topic only you can read, with its own account, for the ntfy app."), enable);
  };
  api.get(path).then(show, (error) => (error.code === "ntfy_channel_not_found" ? offer() : replace(body, errorBox(error))));
  return section;
}

export async function accountView(context) {
  const { api, auth, config, router } = context;
  const listing = await api.get("/account/devices").catch((error) => error);
  const reload = () => router.go(location.pathname, { replace: true });
  const slot = h("div");
  const named = audiences(auth);
  const apps = [...new Set([...named, ...(listing.apps ?? []).map((group) => group.app_id)])];
  const groups = listing instanceof Error
    ? [errorBox(listing)]
    : listing.apps.length
      ? listing.apps.map((group) => h("section", { class: "panel", "aria-labelledby": `devices-${group.app_id}` },
        h("h2", { id: `devices-${group.app_id}` }, `Your devices in ${group.app_id}`),
        table(`Devices in ${group.app_id}`, [
          ["Device", (d) => h("code", null, d.device_id)],
          ["Platform", (d) => d.platform],
          ["Registered", (d) => when(d.created_at)],
          ["Last seen", (d) => when(d.last_seen_at)],
          ["", (d) => revokeButton(api, d, slot, reload)],
        ], group.devices)))
      : [h("p", { class: "muted" }, "You have no devices registered yet.")];
  return {
    title: "Your devices",
    body: [slot, groups, subscribeCard(context, named, reload), config.managed_ntfy ? apps.map((app) => ntfyCard(api, app)) : null],
  };
}
