// A broadcast to every device of the app (or of some platforms), and its progress as the
// fan-out worker reaches them page by page: polled every second until it is finished.

import { seg } from "../api.js";
import { h, replace } from "../dom.js";
import { attempt, field, notify, when } from "../ui.js";
import { appTabs } from "./tabs.js";

const PLATFORMS = [["android", "Android"], ["ios", "iOS"], ["web", "Web"], ["ntfy", "ntfy"]];
const STATUS_TEXT = { running: "running", finished: "all pages queued", cancelled: "cancelled", quota_exhausted: "stopped: daily quota used up" };
const POLL_MS = 1000;

export function broadcastView({ api, auth, params }) {
  const appId = params.app;
  const slot = h("div");
  const progress = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Start broadcast");
  const platforms = h("fieldset", { class: "field" },
    h("legend", null, "Platforms"),
    h("span", { class: "hint" }, "Only devices of the platforms checked get it."),
    PLATFORMS.map(([value, label]) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "platforms", value, checked: true }), ` ${label}`)),
  );
  const form = h("form", { class: "stack" },
    field("Title", { name: "title", required: true, maxlength: 256 }),
    field("Body", { tag: "textarea", name: "body", required: true, rows: 3 }),
    platforms,
    h("div", { class: "actions" }, submit),
    slot,
  );
  // Admin tokens name the app they act for; an app's own token is the app.
  const query = auth.role === "admin" ? { app_id: appId } : undefined;

  function show(broadcast, cancel) {
    const outcomes = broadcast.by_outcome;
    const label = `Reached ${broadcast.reached} of ${broadcast.total} devices: ${outcomes.delivered} delivered, ` +
      `${outcomes.failed} failed, ${outcomes.invalid_token} invalid token, ${outcomes.expired} expired`;
    replace(progress,
      h("h2", null, "Broadcast ", h("code", null, broadcast.broadcast_id)),
      h("label", { for: "broadcast-progress" }, label),
      h("progress", { id: "broadcast-progress", max: Math.max(broadcast.total, broadcast.reached, 1), value: broadcast.reached, "aria-valuetext": label }),
      h("p", { "data-status": broadcast.status },
        `Status: ${STATUS_TEXT[broadcast.status] ?? broadcast.status}`,
        broadcast.finished ? " — finished" : "",
        broadcast.finished_at ? ` (${when(broadcast.finished_at)})` : ""),
      broadcast.reason ? h("p", { class: "muted" }, broadcast.reason) : null,
      broadcast.status === "running" ? h("div", { class: "actions" }, cancel) : null,
    );
  }

  function follow(broadcastId) {
    const path = `/push/broadcasts/${seg(broadcastId)}`;
    const cancel = h("button", { type: "button", class: "danger" }, "Cancel broadcast");
    cancel.addEventListener("click", async () => {
      const cancelled = await attempt(slot, cancel, () => api.delete(path));
      if (cancelled) {
        notify(`Broadcast ${broadcastId} cancelled.`);
        show(cancelled, cancel);
      }
    });
    async function poll() {
      if (!progress.isConnected) return; // the view was left: stop polling
      const broadcast = await attempt(slot, null, () => api.get(path));
      if (!broadcast) return;
      show(broadcast, cancel);
      if (!broadcast.finished) setTimeout(poll, POLL_MS);
    }
    poll();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const chosen = data.getAll("platforms").map(String);
    const body = { title: String(data.get("title")), body: String(data.get("body")) };
    if (chosen.length < PLATFORMS.length) body.platforms = chosen;
    const started = await attempt(slot, submit, () => api.post("/push/send/broadcast", body, query));
    if (!started) return;
    notify(`Broadcast ${started.broadcast_id} started.`);
    follow(started.broadcast_id);
  });
  return { title: `Broadcast for ${appId}`, body: [appTabs(appId), form, progress] };
}
