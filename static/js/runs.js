// The page of one run (templates/runs/detail.html), on top of server-rendered HTML that works
// without it:
//
// - every <pre class="json" data-json> (indented JSON text) becomes a tree whose objects and
//   arrays fold, long arrays folded below the top level, with a Copy button for the JSON text;
//   a folded node builds its children only when opened, so big outputs stay quick;
// - while the run goes on, htmx swaps the live part of the page every 2 s
//   (templates/runs/_live.html): the steps, items and JSON nodes the user opened or closed stay
//   as they were, because every toggle is remembered and applied again to the new content.
//
// htmx.onLoad runs `upgrade` for the first page and for each swapped-in fragment. No inline
// script or eval: the Content-Security-Policy allows neither.
(() => {
  "use strict";

  // Arrays longer than this start folded, except at the top level.
  const LONG_ARRAY = 5;
  // Nodes deeper than this start folded.
  const DEEP = 4;

  // What the user opened or closed: "d|<data-remember>" for the page's <details>, and
  // "<data-json-id>|<path>" for a node of a JSON tree. Kept for the life of the page.
  const intents = new Map();

  document.addEventListener(
    "toggle", // does not bubble: listen while it goes down
    (event) => {
      const details = event.target;
      if (!(details instanceof HTMLDetailsElement)) return;
      if (details.dataset.remember) {
        intents.set(`d|${details.dataset.remember}`, details.open);
      } else if (details.classList.contains("jt-node")) {
        const tree = details.closest("[data-json-tree]");
        if (tree) intents.set(`${tree.dataset.jsonTree}|${details.dataset.path}`, details.open);
      }
    },
    true,
  );

  const element = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // --- The JSON tree ---------------------------------------------------------------------

  const leafValue = (value) => {
    if (value === null) return element("span", "jt-null", "null");
    switch (typeof value) {
      case "string":
        return element("span", "jt-str", JSON.stringify(value));
      case "number":
        return element("span", "jt-num", String(value));
      case "boolean":
        return element("span", "jt-bool", String(value));
      default:
        return element("span", "", String(value));
    }
  };

  // One value as a tree node: `key` is the name in its parent (a number in an array, null at
  // the root), `path` a JSON pointer naming it for the remembered toggles.
  const node = (value, key, path, depth, last, remembered) => {
    const comma = last ? "" : ",";
    const prefix = (target) => {
      // Array items go without their index, as in the JSON text.
      if (typeof key === "string") target.append(element("span", "jt-key", JSON.stringify(key)), ": ");
    };
    if (value === null || typeof value !== "object") {
      const leaf = element("div", "jt-leaf");
      prefix(leaf);
      leaf.append(leafValue(value));
      if (comma) leaf.append(element("span", "jt-comma", comma));
      return leaf;
    }
    const isArray = Array.isArray(value);
    const entries = isArray ? value.map((item, index) => [index, item]) : Object.entries(value);
    const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
    if (entries.length === 0) {
      const leaf = element("div", "jt-leaf");
      prefix(leaf);
      leaf.append(element("span", "jt-open", open + close + comma));
      return leaf;
    }
    const details = element("details", "jt-node");
    details.dataset.path = path;
    const summary = element("summary");
    prefix(summary);
    summary.append(element("span", "jt-open", open));
    summary.dataset.close = close + comma;
    const noun = isArray ? (entries.length === 1 ? "item" : "items") : entries.length === 1 ? "key" : "keys";
    summary.dataset.count = `${entries.length} ${noun}`;
    details.append(summary);
    const closing = element("span", "jt-close", close + comma);
    let filled = false;
    const fill = () => {
      if (filled) return;
      filled = true;
      const list = element("ul");
      entries.forEach(([name, item], index) => {
        const row = element("li");
        const pointer = `${path}/${String(name).replace(/~/g, "~0").replace(/\//g, "~1")}`;
        row.append(node(item, name, pointer, depth + 1, index === entries.length - 1, remembered));
        list.append(row);
      });
      details.insertBefore(list, closing);
    };
    details.append(closing);
    const wanted = remembered(path);
    const startsOpen =
      wanted !== undefined ? wanted : depth === 0 || (depth < DEEP && !(isArray && entries.length > LONG_ARRAY));
    if (startsOpen) {
      fill();
      details.open = true;
    }
    details.addEventListener("toggle", () => {
      if (details.open) fill();
    });
    return details;
  };

  const copyText = async (text) => {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    // Plain http on another host than localhost has no clipboard API: the old way still works.
    const area = element("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    if (!done) throw new Error("copy refused");
  };

  const flash = (button, text) => {
    const before = button.dataset.label || button.textContent;
    button.dataset.label = before;
    button.textContent = text;
    window.setTimeout(() => {
      button.textContent = before;
    }, 1500);
  };

  const upgradeJson = (pre) => {
    if (pre.dataset.jsonReady) return;
    let value;
    try {
      value = JSON.parse(pre.textContent);
    } catch (error) {
      return; // not JSON after all: the text stays as it is
    }
    pre.dataset.jsonReady = "1";
    const id = pre.dataset.jsonId || "";
    const remembered = (path) => intents.get(`${id}|${path}`);

    const tree = element("div", "json-tree");
    tree.dataset.jsonTree = id;
    tree.setAttribute("role", "group");
    tree.setAttribute("aria-label", "JSON");
    tree.append(node(value, null, "", 0, true, remembered));

    const tools = element("div", "json-tools");
    const copy = element("button", "btn btn-small", "Copy");
    copy.type = "button";
    copy.dataset.testid = "json-copy";
    copy.addEventListener("click", () => {
      copyText(pre.textContent).then(
        () => flash(copy, "Copied"),
        () => {
          // Nothing reached the clipboard: show the text selected, for Ctrl-C.
          tree.hidden = true;
          pre.hidden = false;
          window.getSelection().selectAllChildren(pre);
          flash(copy, "Press Ctrl-C");
        },
      );
    });
    const all = element("button", "btn btn-small", "Unfold all");
    all.type = "button";
    all.addEventListener("click", () => {
      const unfold = all.textContent === "Unfold all";
      // Opening a node builds its children (its toggle event), so go round until none is left.
      for (let round = 0; round < 64; round += 1) {
        const shut = [...tree.querySelectorAll(unfold ? "details:not([open])" : "details[open]")];
        if (!shut.length) break;
        shut.forEach((details) => {
          details.open = unfold;
        });
        if (!unfold) break;
        shut.forEach((details) => details.dispatchEvent(new Event("toggle")));
      }
      if (!unfold) tree.querySelector("details").open = true;
      all.textContent = unfold ? "Fold all" : "Unfold all";
    });
    const text = element("button", "btn btn-small", "Text");
    text.type = "button";
    text.setAttribute("aria-pressed", "false");
    text.addEventListener("click", () => {
      const showText = pre.hidden;
      pre.hidden = !showText;
      tree.hidden = showText;
      all.hidden = showText;
      text.setAttribute("aria-pressed", String(showText));
    });
    tools.append(copy, all, text);
    pre.hidden = true;
    pre.before(tools);
    pre.after(tree);
  };

  // --- The page ------------------------------------------------------------------------

  const upgrade = (root) => {
    if (!root || !root.querySelectorAll) return;
    const scope = [root, ...root.querySelectorAll("details[data-remember]")];
    scope.forEach((details) => {
      if (!(details instanceof HTMLDetailsElement) || !details.dataset.remember) return;
      const wanted = intents.get(`d|${details.dataset.remember}`);
      if (wanted !== undefined) details.open = wanted;
    });
    const pres = root.matches && root.matches("pre[data-json]") ? [root] : root.querySelectorAll("pre[data-json]");
    pres.forEach(upgradeJson);
  };

  if (window.htmx) window.htmx.onLoad(upgrade);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => upgrade(document.body));
  } else {
    upgrade(document.body);
  }
})();
