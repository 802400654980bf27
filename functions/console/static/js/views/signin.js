// Signed out: choose what to sign in as, then off to the issuer's sign-in page.

import { ROLES } from "../auth.js";
import { h } from "../dom.js";
import { attempt, errorBox } from "../ui.js";

export function signInView({ auth, config, signInError }) {
  if (!auth.canSignIn) {
    return {
      title: "Sign in",
      body: [
        h("p", { class: "error", role: "alert" }, "This deployment names no sign-in service: set the ConsoleIssuer parameter (docs/console.md)."),
      ],
    };
  }
  const slot = h("div");
  const choices = Object.entries(ROLES).map(([role, { label }], index) =>
    h(
      "label",
      { class: "choice" },
      h("input", { type: "radio", name: "role", value: role, checked: index === 0 }),
      label,
      h("span", { class: "hint" }, { admin: "configure every app and gateway instance", app: "one app: its settings, devices and test sends (the subject is the app id)", user: "your own devices in the apps you name as audience" }[role]),
    ),
  );
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "stack", "aria-describedby": "sign-in-about" },
    h("fieldset", null, h("legend", null, "Sign in as"), choices),
    h("div", { class: "actions" }, submit),
    slot,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const role = new FormData(form).get("role");
    const returnTo = location.pathname === "/console/" ? "/console/" : location.pathname + location.search;
    attempt(slot, submit, () => auth.signIn(role, returnTo));
  });
  return {
    title: "Sign in",
    body: [
      signInError ? errorBox(signInError) : null,
      h("p", { id: "sign-in-about" }, "The console signs you in at ", h("code", null, config.issuer), ". What you may see and change is what your token allows."),
      form,
    ],
  };
}
