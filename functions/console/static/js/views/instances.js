// Operators: the gateway instances (takos protocol) enrolled, enrolling one, removing one.

import { seg } from "../api.js";
import { h, replace } from "../dom.js";
import { attempt, badge, confirmDialog, field, notify, pager, table, when } from "../ui.js";

export function instancesView({ api }) {
  const slot = h("div");
  const list = h("div");
  const formSlot = h("div");
  const submit = h("button", { type: "submit" }, "Enrol or update");
  const enabled = h("input", { type: "checkbox", id: "instance-enabled", name: "enabled", checked: true });
  const form = h("form", { class: "stack" },
    field("Instance", { name: "instance", required: true, autocomplete: "off", id: "instance-name" }, "Its DNS name (or external:<slug>)."),
    field("Domain", { name: "domain", required: true, autocomplete: "off", id: "instance-domain" }, "Where its /.well-known/takos-push.json is served."),
    field("Tenant (optional)", { name: "tenant", autocomplete: "off", id: "instance-tenant" }),
    field("Daily quota (optional)", { type: "number", name: "daily_quota", min: 1, id: "instance-quota", inputmode: "numeric" }),
    h("label", { class: "switch", for: "instance-enabled" }, enabled, "Enabled"),
    h("div", { class: "actions" }, submit),
    formSlot,
  );
  const paging = pager(async (cursor) => {
    const page = await attempt(slot, null, () => api.get("/push/instances", { limit: 25, cursor }));
    if (!page) return null;
    replace(list, table("Gateway instances", [
      ["Instance", (i) => h("code", null, i.instance)],
      ["Domain", (i) => i.domain],
      ["Tenant app", (i) => i.tenant_app_id ?? "—"],
      ["State", (i) => badge(i.enabled, "enabled", "disabled")],
      ["Daily quota", (i) => i.daily_quota.toLocaleString("en"), { num: true }],
      ["Devices", (i) => i.device_count.toLocaleString("en"), { num: true }],
      ["Sent today", (i) => i.notifications_today.toLocaleString("en"), { num: true }],
      ["Updated", (i) => when(i.updated_at)],
      ["", (i) => h("div", { class: "actions" }, editButton(i), removeButton(i))],
    ], page.instances, { empty: "No gateway instance is enrolled." }));
    return page.next_cursor;
  });
  function editButton(instance) {
    return h("button", { type: "button", class: "secondary", "aria-label": `Edit ${instance.instance}`, onclick: () => {
      form.elements.instance.value = instance.instance;
      form.elements.domain.value = instance.domain;
      form.elements.tenant.value = instance.tenant ?? "";
      form.elements.daily_quota.value = instance.daily_quota;
      enabled.checked = instance.enabled;
      form.elements.domain.focus();
    } }, "Edit");
  }
  function removeButton(instance) {
    const button = h("button", { type: "button", class: "danger", "aria-label": `Remove ${instance.instance}` }, "Remove");
    button.addEventListener("click", async () => {
      if (!(await confirmDialog(`Remove ${instance.instance}? Its tenant app is disabled too.`, "Remove"))) return;
      const done = await attempt(slot, button, async () => {
        await api.delete(`/push/instances/${seg(instance.instance)}`);
        return true;
      });
      if (done) {
        notify(`Instance ${instance.instance} removed.`);
        paging.start();
      }
    });
    return button;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { domain: String(data.get("domain")).trim(), enabled: enabled.checked };
    if (String(data.get("tenant")).trim()) body.tenant = String(data.get("tenant")).trim();
    if (String(data.get("daily_quota")).trim()) body.daily_quota = Number(data.get("daily_quota"));
    const name = String(data.get("instance")).trim();
    const saved = await attempt(formSlot, submit, () => api.put(`/push/instances/${seg(name)}`, body));
    if (saved) {
      notify(`Instance ${saved.instance} saved.`);
      paging.start();
    }
  });
  paging.start();
  return { title: "Gateway instances", body: [slot, list, paging.element, h("h2", null, "Enrol an instance, or change one"), form] };
}
