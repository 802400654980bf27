// The sub-pages of one app.

import { seg } from "../api.js";
import { h } from "../dom.js";

const PAGES = [
  ["", "Notifications"],
  ["/devices", "Devices"],
  ["/send", "Test send"],
  ["/broadcast", "Broadcast"],
  ["/status", "Status"],
];

export function appTabs(appId) {
  const base = `/console/apps/${seg(appId)}`;
  return h(
    "nav",
    { "aria-label": `App ${appId}` },
    h("ul", { class: "tabs" }, PAGES.map(([suffix, label]) => {
      const href = base + suffix;
      return h("li", null, h("a", { href, "aria-current": location.pathname.replace(/\/$/, "") === href ? "page" : null }, label));
    })),
  );
}
