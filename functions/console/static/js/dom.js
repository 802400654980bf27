// Builds elements from data, never from HTML strings: text always stays text.

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(element, props) {
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      element.setAttribute("class", value);
    } else if (name === "value" && "value" in element && element.namespaceURI !== SVG_NS) {
      element.value = String(value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** An HTML element: h("a", {href: "/x"}, "text", otherElement). */
export function h(tag, props, ...children) {
  const element = append(document.createElement(tag), children);
  apply(element, props); // after the children: a <select>'s value needs its options
  return element;
}

/** An SVG element, as h(). */
export function s(tag, props, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  apply(element, props);
  return append(element, children);
}

export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}
