// Pieces every view uses: messages, confirmations, fields, tables, paging.

import { h, replace } from "./dom.js";

/** A success or progress message, announced politely. */
export function notify(text) {
  replace(document.getElementById("notice"), text ? h("p", null, text) : null);
}

/** An error as the API worded it, announced at once. */
export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error?.message ?? String(error));
}

/** Runs `action` for a form or button, showing its error in `slot` (cleared first); the
 * control is disabled meanwhile so a second click sends nothing twice. */
export async function attempt(slot, control, action) {
  replace(slot);
  if (control) control.disabled = true;
  try {
    return await action();
  } catch (error) {
    replace(slot, errorBox(error));
    return undefined;
  } finally {
    if (control) control.disabled = false;
  }
}

/** A modal question (native <dialog>: focus stays inside, Escape cancels). */
export function confirmDialog(question, confirmLabel, { danger = true } = {}) {
  return new Promise((resolve) => {
    const title = h("h2", { id: "dialog-title" }, question);
    const yes = h("button", { type: "button", class: danger ? "danger" : null }, confirmLabel);
    const no = h("button", { type: "button", class: "secondary" }, "Cancel");
    const dialog = h("dialog", { "aria-labelledby": "dialog-title" }, title, h("div", { class: "actions" }, yes, no));
    const close = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => close(true));
    no.addEventListener("click", () => close(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

let fieldCount = 0;

/** A labelled input: field("Webhook URL", {type: "url", name: "webhook_url"}, "hint"). */
export function field(label, props, hint, options = []) {
  const id = props.id ?? `field-${++fieldCount}`;
  const hintId = hint ? `${id}-hint` : null;
  const tag = props.tag ?? "input";
  const defaults = tag === "input" ? { type: "text" } : {};
  const control = h(tag, { ...defaults, ...props, tag: null, id, "aria-describedby": hintId }, options);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    hint ? h("span", { class: "hint", id: hintId }, hint) : null,
    control,
  );
}

/** A table with a caption; `columns` are [header, cell(row), {num}] triples. */
export function table(caption, columns, rows, { empty = "Nothing here yet." } = {}) {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      null,
      h("caption", null, caption),
      h("thead", null, h("tr", null, columns.map(([title, , opts]) => h("th", { scope: "col", class: opts?.num ? "num" : null }, title)))),
      h("tbody", null, rows.map((row) => h("tr", null, columns.map(([, cell, opts]) => h("td", { class: opts?.num ? "num" : null }, cell(row)))))),
    ),
  );
}

/** Previous / next buttons over opaque cursors: `load(cursor)` shows one page. */
export function pager(load) {
  const history = [];
  let current = null;
  let next = null;
  const previousButton = h("button", { type: "button", class: "secondary", onclick: () => go(history.pop() ?? null, false) }, "Previous page");
  const nextButton = h("button", { type: "button", class: "secondary", onclick: () => go(next, true) }, "Next page");
  const element = h("div", { class: "actions" }, previousButton, nextButton);
  async function go(cursor, forward) {
    if (forward) history.push(current);
    current = cursor;
    next = await load(cursor);
    update();
  }
  function update() {
    previousButton.disabled = history.length === 0;
    nextButton.disabled = !next;
  }
  update();
  return { element, start: () => go(null, false) };
}

export function badge(on, onText, offText, { bad = false } = {}) {
  return h("span", { class: `badge ${on ? (bad ? "bad" : "on") : "off"}` }, on ? onText : offText);
}

export function when(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
}

export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(Boolean).map(([term, value]) => [h("dt", null, term), h("dd", null, value)]));
}
