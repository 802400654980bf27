// pushgate's own API browser: reads /openapi.json and shows its operations, grouped by tag
// (or by the path's first words), with their parameters, bodies, answers and the schemas.

import { h, replace } from "./dom.js";

const METHODS = ["get", "put", "post", "patch", "delete", "options", "head"];
const main = document.getElementById("main");
const statusLine = document.getElementById("docs-status");

/** `text with `code`` as text and <code>: the document's descriptions use backticks. */
function prose(text) {
  if (!text) return null;
  return String(text).split(/(`[^`]+`)/).map((part) => (part.startsWith("`") && part.endsWith("`") && part.length > 2 ? h("code", null, part.slice(1, -1)) : part));
}

function refName(ref) {
  return ref.split("/").pop();
}

export function anchorOf(kind, name) {
  return `${kind}-${String(name).replace(/[^A-Za-z0-9_-]+/g, "-")}`;
}

/** A schema's type in a few words, with links to named schemas. */
export function typeOf(schema) {
  if (!schema || typeof schema !== "object") return "any";
  if (schema.$ref) {
    const name = refName(schema.$ref);
    return h("a", { href: `#${anchorOf("schema", name)}` }, name);
  }
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map((variant, index) => [index ? " | " : "", typeOf(variant)]);
  if (schema.enum) return ["one of ", schema.enum.map((value, index) => [index ? ", " : "", h("code", null, JSON.stringify(value))])];
  if (schema.type === "array") return ["array of ", typeOf(schema.items)];
  if (schema.type === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object") {
    return ["object of ", typeOf(schema.additionalProperties)];
  }
  return [schema.type ?? "any", schema.format ? ` (${schema.format})` : ""];
}

export function constraintsOf(schema) {
  const base = schema?.anyOf?.find((variant) => variant.type !== "null") ?? schema ?? {};
  const notes = [];
  for (const [key, label] of [["minimum", "≥"], ["maximum", "≤"], ["minLength", "length ≥"], ["maxLength", "length ≤"], ["maxItems", "items ≤"], ["maxProperties", "keys ≤"]]) {
    if (base[key] !== undefined) notes.push(`${label} ${base[key]}`);
  }
  if (base.pattern) notes.push(h("code", null, base.pattern));
  if (schema?.default !== undefined) notes.push(["default ", h("code", null, JSON.stringify(schema.default))]);
  return notes.map((note, index) => [index ? "; " : "", note]);
}

function groupOf(path, operation) {
  if (operation.tags?.length) return operation.tags[0];
  const words = path.split("/").filter((word) => word && !word.startsWith("{"));
  if (words[0] === "push" && words[1]) return words[1];
  return words[0] ?? "other";
}

function parameterRow(p) {
  return h("tr", null,
    h("td", null, h("code", null, p.name)),
    h("td", null, p.in),
    h("td", null, typeOf(p.schema), " ", constraintsOf(p.schema)),
    h("td", null, p.required ? "yes" : "no"),
    h("td", null, prose(p.description ?? p.schema?.description)));
}

function parametersTable(parameters) {
  if (!parameters?.length) return null;
  const head = h("thead", null, h("tr", null, ["Name", "In", "Type", "Required", "Description"].map((title) => h("th", { scope: "col" }, title))));
  return [h("h4", null, "Parameters"), h("div", { class: "table-wrap" }, h("table", null, head, h("tbody", null, parameters.map(parameterRow))))];
}

function contentTypes(content) {
  return Object.entries(content ?? {}).map(([type, media], index) => [index ? "; " : "", h("code", null, type), " ", typeOf(media.schema)]);
}

function operationCard(path, method, operation) {
  const id = anchorOf("op", operation.operationId ?? `${method}-${path}`);
  const secured = operation.security?.length ? "Bearer token" : "No token";
  return h("section", { class: "op", id, "aria-labelledby": `${id}-h` },
    h("h3", { id: `${id}-h` }, h("span", { class: `method ${method}` }, method.toUpperCase()), h("code", null, path)),
    h("p", null, prose(operation.summary)),
    operation.description ? h("p", { class: "muted" }, prose(operation.description)) : null,
    h("p", { class: "hint" }, secured),
    parametersTable(operation.parameters),
    operation.requestBody ? [h("h4", null, "Request body"), h("p", null, contentTypes(operation.requestBody.content))] : null,
    h("h4", null, "Answers"),
    h("div", { class: "table-wrap" }, h("table", null,
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Meaning"), h("th", { scope: "col" }, "Body"))),
      h("tbody", null, Object.entries(operation.responses ?? {}).map(([status, answer]) => h("tr", null,
        h("td", null, h("code", null, status)), h("td", null, prose(answer.description)), h("td", null, Object.keys(answer.content ?? {}).length ? contentTypes(answer.content) : "—")))))),
  );
}

function schemaCard(name, schema) {
  const id = anchorOf("schema", name);
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties ?? {}).map(([property, definition]) => h("tr", null,
    h("td", null, h("code", null, property)), h("td", null, typeOf(definition)), h("td", null, required.has(property) ? "yes" : "no"),
    h("td", null, prose(definition.description), definition.description ? " " : "", constraintsOf(definition))));
  return h("section", { class: "op", id, "aria-labelledby": `${id}-h` },
    h("h3", { id: `${id}-h` }, h("code", null, name)),
    schema.description ? h("p", null, prose(schema.description)) : null,
    rows.length
      ? h("div", { class: "table-wrap" }, h("table", null,
        h("thead", null, h("tr", null, ["Field", "Type", "Required", "Notes"].map((title) => h("th", { scope: "col" }, title)))),
        h("tbody", null, rows)))
      : h("p", null, typeOf(schema)),
  );
}

export function render(spec) {
  const groups = new Map();
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const group = groupOf(path, item[method]);
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push([path, method, item[method]]);
    }
  }
  const names = [...groups.keys()].sort();
  const schemas = Object.entries(spec.components?.schemas ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const filter = h("input", { type: "search", id: "docs-filter", placeholder: "e.g. devices, send, 404", autocomplete: "off" });
  const cards = [];
  const sections = names.map((group) => {
    const operations = groups.get(group).map(([path, method, operation]) => {
      const card = operationCard(path, method, operation);
      cards.push([card, `${method} ${path} ${operation.summary ?? ""} ${Object.keys(operation.responses ?? {}).join(" ")}`.toLowerCase()]);
      return card;
    });
    return h("section", { "aria-labelledby": anchorOf("group", group) }, h("h2", { id: anchorOf("group", group) }, group), operations);
  });
  filter.addEventListener("input", () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const [card, text] of cards) card.hidden = !words.every((word) => text.includes(word));
  });
  const info = spec.info ?? {};
  replace(main,
    h("h1", null, `${info.title ?? "API"} API reference`, info.version ? h("span", { class: "muted" }, ` ${info.version}`) : null),
    info.summary ? h("p", null, prose(info.summary)) : null,
    info.description ? h("p", null, prose(info.description)) : null,
    h("p", null, "OpenAPI ", spec.openapi, " · ", h("a", { href: "/openapi.json" }, "openapi.json"),
      (spec.servers ?? []).map((server) => [" · server ", h("code", null, server.url), server.description ? ` (${server.description})` : ""])),
    h("nav", { class: "toc", "aria-label": "Contents" }, h("ul", null,
      names.map((group) => h("li", null, h("a", { href: `#${anchorOf("group", group)}` }, group), ` (${groups.get(group).length})`)),
      h("li", null, h("a", { href: "#schemas" }, "Schemas"), ` (${schemas.length})`))),
    h("div", { class: "field" }, h("label", { for: "docs-filter" }, "Filter operations"), filter),
    sections,
    h("section", { "aria-labelledby": "schemas" }, h("h2", { id: "schemas" }, "Schemas"), schemas.map(([name, schema]) => schemaCard(name, schema))),
  );
}

async function start() {
  try {
    const response = await fetch("/openapi.json", { credentials: "omit" });
    if (!response.ok) throw new Error(`/openapi.json answered ${response.status}`);
    render(await response.json());
  } catch (error) {
    replace(statusLine, h("span", { class: "error", role: "alert" }, `The API document did not load: ${error.message}`));
  }
}

start();
