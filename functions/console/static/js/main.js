// The console's entry point: configuration, sign-in, the layout and the routes.

import { createApi } from "./api.js";
import { Auth } from "./auth.js";
import { loadConfig } from "./config.js";
import { h, replace } from "./dom.js";
import { Router } from "./router.js";
import { errorBox, notify } from "./ui.js";
import { accountView } from "./views/account.js";
import { appView } from "./views/app.js";
import { appsView } from "./views/apps.js";
import { broadcastView } from "./views/broadcast.js";
import { devicesView } from "./views/devices.js";
import { instancesView } from "./views/instances.js";
import { sendView } from "./views/send.js";
import { signInView } from "./views/signin.js";
import { statusView } from "./views/status.js";

const main = document.getElementById("main");

function notFoundView() {
  return { title: "Not found", body: [h("p", null, "The console has no page here. "), h("a", { href: "/console/" }, "Back to the start")] };
}

function homeView(context) {
  const { auth, router } = context;
  if (auth.role === "app") return router.go(`/console/apps/${encodeURIComponent(auth.claims.sub)}`, { replace: true });
  if (auth.role === "user") return router.go("/console/account", { replace: true });
  return appsView(context);
}

// Views that need no sign-in.
const PUBLIC = new Set([notFoundView]);

function navigation(auth) {
  const links = {
    admin: [["/console/", "Apps"], ["/console/instances", "Gateway instances"]],
    app: [[`/console/apps/${encodeURIComponent(auth.claims.sub ?? "")}`, "My app"]],
    user: [["/console/account", "My devices"]],
  }[auth.role] ?? [];
  return [...links, ["/docs", "API reference"]].map(([href, text]) => {
    const current = href === location.pathname || (href !== "/console/" && href !== "/docs" && location.pathname.startsWith(href));
    return h("a", { href, "aria-current": current ? "page" : null }, text);
  });
}

function header(context) {
  const { auth } = context;
  replace(document.getElementById("nav"), navigation(auth));
  const who = document.getElementById("who");
  if (!auth.token) return replace(who);
  const signOut = h("button", { type: "button", class: "secondary", onclick: () => {
    auth.signOut();
    notify("Signed out.");
    context.router.go("/console/");
  } }, "Sign out");
  return replace(who, h("span", null, "Signed in as ", h("strong", null, auth.claims.sub ?? "?")), signOut);
}

async function start() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    replace(main, h("h1", null, "The console could not start"), errorBox(error));
    return;
  }
  const auth = new Auth(config);
  const context = { config, auth };
  context.api = createApi({
    base: config.api_base,
    getToken: () => auth.token,
    onUnauthorized: () => {
      auth.signOut();
      notify("Your sign-in has ended: sign in again.");
      header(context);
    },
  });
  let signInError = null;
  let returnTo = null;
  try {
    returnTo = await auth.completeSignIn();
  } catch (error) {
    signInError = error;
  }
  let generation = 0;
  const render = async (view, params, focus) => {
    const mine = ++generation;
    header(context);
    const chosen = auth.token || PUBLIC.has(view) ? view : signInView;
    replace(main, h("p", null, "Loading…"));
    let result;
    try {
      result = await chosen({ ...context, params, signInError });
    } catch (error) {
      result = { title: "Something went wrong", body: [errorBox(error)] };
    }
    signInError = null;
    if (mine !== generation || !result) return; // a later navigation won, or this one redirected
    document.title = `${result.title} · pushgate console`;
    const heading = h("h1", { tabindex: "-1" }, result.heading ?? result.title);
    replace(main, heading, result.body);
    if (focus) heading.focus();
  };
  context.router = new Router(
    [
      ["/console/", homeView],
      ["/console/apps/:app", appView],
      ["/console/apps/:app/devices", devicesView],
      ["/console/apps/:app/send", sendView],
      ["/console/apps/:app/broadcast", broadcastView],
      ["/console/apps/:app/status", statusView],
      ["/console/instances", instancesView],
      ["/console/account", accountView],
    ],
    notFoundView,
    render,
  );
  if (returnTo) history.replaceState(null, "", returnTo);
  if (returnTo) notify("Signed in.");
  if (new URL(config.api_base).origin !== location.origin) {
    notify(`This deployment's console lives at ${config.redirect_uri}: sign-in returns there.`);
  }
  await context.router.start();
}

start();
