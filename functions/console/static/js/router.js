// Client-side routes under /console/: links change the view without reloading, the back
// button works, and each new view's heading takes the focus (screen readers announce it).

export function compile(pattern) {
  const names = [];
  const source = pattern.replace(/:([a-z]+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  const regex = new RegExp(`^${source}/?$`);
  return (path) => {
    const match = regex.exec(path);
    if (!match) return null;
    return Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1])]));
  };
}

export class Router {
  constructor(routes, notFound, render) {
    this.routes = routes.map(([pattern, view]) => [compile(pattern), view]);
    this.notFound = notFound;
    this.render = render;
    this.firstRender = true;
  }

  start() {
    document.addEventListener("click", (event) => {
      const link = event.target.closest?.("a[href]");
      if (!link || event.defaultPrevented || event.button !== 0) return;
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target) return;
      const url = new URL(link.href, location.href);
      if (url.origin !== location.origin || !url.pathname.startsWith("/console/")) return;
      if (url.pathname.startsWith("/console/lib/") || link.hasAttribute("download")) return;
      event.preventDefault();
      this.go(url.pathname + url.search);
    });
    window.addEventListener("popstate", () => this.show());
    return this.show();
  }

  go(path, { replace = false } = {}) {
    if (replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
    return this.show();
  }

  show() {
    const path = location.pathname;
    for (const [match, view] of this.routes) {
      const params = match(path);
      if (params) return this.render(view, params, this._focus());
    }
    return this.render(this.notFound, {}, this._focus());
  }

  _focus() {
    const focus = !this.firstRender;
    this.firstRender = false;
    return focus;
  }
}
