// The workflow editor's behaviour on top of server-rendered forms (builder/views/editor.py).
// Everything here is an enhancement: each form posts and each link opens without it.
//
// - autosave: forms marked data-autosave post through htmx as the user types; "Saved" shows
//   when the server has the change, and leaving with unsaved changes asks first;
// - forms and links marked data-flush / data-flush-link wait for pending saves first;
// - the problems list in the header is placed beside each field it names;
// - rows (arrays, key–value pairs, conditions, trigger fields) are added from a <template>;
// - the action picker and the data picker open in <dialog>s, fully usable by keyboard;
// - steps reorder by drag (SortableJS, static/vendor/sortablejs);
// - <time data-local> shows in the viewer's own time zone and language, with "in 3 days";
// - [data-copy="<id>"] buttons copy that field's text (the webhook URL, a new secret).
(() => {
  "use strict";

  const csrf = () => {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  };
  const saveState = (text, kind) => {
    const state = document.getElementById("save-state");
    if (state) {
      state.textContent = text;
      state.dataset.kind = kind || "";
    }
  };

  // --- autosave --------------------------------------------------------------------------
  const dirty = new Set();
  // Requests in flight, by XMLHttpRequest: htmx's own afterRequest event is dispatched on the
  // element that asked, which a swap may have taken out of the page, so it would never arrive.
  const inflight = new Set();
  // Forms whose last save was refused (a field to fix): their changes are not on the server.
  const refused = new Set();
  const waiters = [];
  const busy = () => {
    dirty.forEach((form) => {
      if (!form.isConnected) dirty.delete(form); // replaced by a re-rendered card
    });
    return dirty.size > 0 || inflight.size > 0;
  };
  const settle = () => {
    if (!busy()) {
      while (waiters.length) waiters.shift()();
    }
  };
  const autosaveForm = (element) => element && element.closest && element.closest("form[data-autosave]");

  document.addEventListener("input", (event) => {
    const form = autosaveForm(event.target);
    if (form) {
      dirty.add(form);
      saveState("Unsaved changes…", "dirty");
    }
  });
  document.addEventListener("change", (event) => {
    const form = autosaveForm(event.target);
    if (form) dirty.add(form);
    syncChoices(event.target);
  });
  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = autosaveForm(event.detail.elt);
    // A GET inside a form loads part of it (the trigger's Klaviyo choices): not a save.
    if (!form || (event.detail.requestConfig && event.detail.requestConfig.verb === "get")) return;
    const xhr = event.detail.xhr;
    dirty.delete(form);
    inflight.add(xhr);
    saveState("Saving…", "saving");
    xhr.addEventListener("loadend", () => {
      inflight.delete(xhr);
      if (xhr.status === 400) refused.add(form);
      else if (xhr.status >= 200 && xhr.status < 300) refused.delete(form);
      if (xhr.status === 0 || xhr.status >= 500) {
        saveState("Not saved: the server did not answer; your changes are still here.", "error");
        dirty.add(form);
      }
      settle();
    });
  });
  // A 400 answer carries the form's errors: show it like any other answer.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  const unsaved = () => busy() || Array.from(refused).some((form) => form.isConnected);
  window.addEventListener("beforeunload", (event) => {
    if (unsaved()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Save every changed form now; call `then` once the server has them all.
  const flush = (then) => {
    waiters.push(then);
    dirty.forEach((form) => htmx.trigger(form, "change"));
    settle();
  };
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("form[data-flush]") || form.hasAttribute("hx-post")) return;
    if (event.defaultPrevented) return; // a data-confirm said no
    const submitter = event.submitter;
    if (form.dataset.waiting) {
      event.preventDefault(); // already on its way, once its saves are done
      return;
    }
    if (busy()) {
      event.preventDefault();
      form.dataset.waiting = "1";
      flush(() => {
        // Submit once saved, with the button that was pressed (the picker's action), and
        // without asking a data-confirm question a second time.
        if (submitter && submitter.name) {
          const chosen = document.createElement("input");
          chosen.type = "hidden";
          chosen.name = submitter.name;
          chosen.value = submitter.value;
          form.appendChild(chosen);
        }
        form.submit();
      });
      return;
    }
    // One click, one change: the button stays pressed while the page is left.
    if (submitter) setTimeout(() => (submitter.disabled = true), 0);
  });
  // Changing the trigger's type drops its input fields unless the new type has them too (the
  // form says which types keep them, data-keeps, and what would go, data-drops): ask first.
  document.addEventListener("htmx:confirm", (event) => {
    const form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-drops]")) return;
    const select = form.querySelector("select");
    if (!select || (form.dataset.keeps || "").split(" ").includes(select.value)) return;
    const title = select.selectedOptions[0] ? select.selectedOptions[0].textContent : select.value;
    if (!window.confirm(`Switch to ${title}? The trigger's ${form.dataset.drops} will be removed from the draft.`)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      select.value = form.dataset.current || select.value;
    }
  });
  document.addEventListener("htmx:confirm", (event) => {
    const form = event.detail.elt;
    if (form.matches && form.matches("form[data-flush]") && busy()) {
      event.preventDefault();
      flush(() => event.detail.issueRequest());
    }
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-flush-link]");
    if (link && busy()) {
      event.preventDefault();
      flush(() => {
        window.location.href = link.href;
      });
    }
  });

  // --- problems beside their fields ----------------------------------------------------------
  // Where a problem's field is: its step's card, the trigger card, or the workflow's own form.
  const cardOf = (step, pointer) => {
    if (step) return document.getElementById(`step-${step}`);
    if ((pointer || "").startsWith("/trigger")) return document.getElementById("trigger");
    return document.getElementById("workflow-settings");
  };
  const fieldFor = (container, pointer) => {
    let path = pointer;
    while (path) {
      const found = container.querySelector(`[data-pointer="${CSS.escape(path)}"]`);
      if (found) return found;
      path = path.slice(0, Math.max(0, path.lastIndexOf("/")));
    }
    return null;
  };
  const placeProblems = () => {
    const list = document.getElementById("problems");
    if (!list) return;
    document.querySelectorAll(".has-problem").forEach((el) => el.classList.remove("has-problem", "has-warning"));
    document.querySelectorAll(".field-problem").forEach((el) => {
      el.textContent = "";
      el.hidden = true;
    });
    list.querySelectorAll("li[data-pointer]").forEach((item) => {
      const container = cardOf(item.dataset.step, item.dataset.pointer);
      if (!container) return;
      // The trigger card marks each setting (/trigger/cron); the rest fall back to /trigger.
      const field = fieldFor(container, item.dataset.pointer);
      if (!field) return;
      const slot = field.querySelector(":scope > .field-problem") || field.querySelector(".field-problem");
      if (!slot) return;
      const line = document.createElement("span");
      line.textContent = item.dataset.message;
      slot.appendChild(line);
      slot.hidden = false;
      field.classList.add(item.dataset.severity === "error" ? "has-problem" : "has-warning");
    });
  };
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-problem-link]");
    if (!link) return;
    const item = link.closest("li[data-pointer]");
    let target = document.getElementById(link.hash.slice(1));
    if (!target && item) target = fieldFor(cardOf(item.dataset.step, item.dataset.pointer) || document, item.dataset.pointer);
    event.preventDefault();
    if (!target || target.closest(".step-body-lazy") || target.matches(".step-card")) {
      // The field is in a closed card whose form is not loaded: open the page at that step.
      flush(() => {
        window.location.href = link.href;
      });
      return;
    }
    for (let node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    target.scrollIntoView({ block: "center" });
    const focusable = target.matches("input, select, textarea") ? target : target.querySelector("input:not([type=hidden]), select, textarea");
    if (focusable) focusable.focus({ preventScroll: true });
    document.getElementById("problems")?.removeAttribute("open");
  });

  // --- rows, alternatives, branches ------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const add = event.target.closest("[data-add-row]");
    if (add) {
      const box = add.parentElement;
      const list = box.querySelector(":scope > ol.rows, :scope > .condition-rows > ol.rows") || box.querySelector("ol.rows");
      const template = box.querySelector(":scope > template") || box.querySelector("template");
      if (!list || !template) return;
      const next = Number(list.dataset.next || list.children.length);
      list.dataset.next = String(next + 1);
      const html = template.innerHTML.replaceAll("__i__", String(next));
      list.insertAdjacentHTML("beforeend", html);
      const last = list.lastElementChild;
      last?.querySelector("input:not([type=hidden]), select, textarea")?.focus();
      return;
    }
    const remove = event.target.closest("[data-remove-row]");
    if (remove) {
      const form = remove.closest("form");
      remove.closest("li.row")?.remove();
      if (form) {
        dirty.add(form);
        htmx.trigger(form, "change");
      }
    }
  });

  const setEnabled = (element, on) => {
    element.hidden = !on;
    element.querySelectorAll("input, select, textarea").forEach((control) => {
      if (!control.hasAttribute("data-map-slot")) control.disabled = !on;
    });
  };
  function syncChoices(target) {
    if (!target || !target.matches) return;
    if (target.matches("[data-alternative-choice]")) {
      const form = target.closest("form");
      form.querySelectorAll("[data-alternative]").forEach((group) => {
        setEnabled(group, group.dataset.alternative === target.value);
      });
    }
    if (target.matches("[data-branch-choice]")) {
      const box = target.closest("fieldset");
      box.querySelectorAll(":scope > .branch").forEach((panel) => {
        setEnabled(panel, panel.dataset.branch === target.value);
      });
    }
    if (target.matches("[data-condition-mode]")) {
      const rows = target.closest("fieldset").querySelector(".condition-rows");
      if (rows) rows.hidden = !target.value;
    }
  }
  const initChoices = (root) => {
    root.querySelectorAll("[data-alternative-choice]:checked, [data-branch-choice], [data-condition-mode]").forEach(syncChoices);
  };

  // --- dialogs: the action picker and the data picker --------------------------------------------
  const openDialog = (id, url, then) => {
    const dialog = document.getElementById(id);
    if (!dialog || typeof dialog.showModal !== "function") return false;
    const body = dialog.querySelector(".dialog-body");
    body.innerHTML = '<p class="muted">Loading…</p>';
    if (!dialog.open) dialog.showModal();
    htmx.ajax("GET", url, { target: body, swap: "innerHTML", headers: { "X-CSRFToken": csrf() } }).then(() => then && then(body));
    return true;
  };

  // The action picker: type to search, arrows to choose, Enter to add, Esc to close.
  const options = (root) => Array.from(root.querySelectorAll(".picker-option"));
  const activate = (root, index) => {
    const all = options(root);
    all.forEach((option) => {
      option.classList.remove("is-active");
      option.removeAttribute("aria-selected");
    });
    if (!all.length) return;
    const chosen = all[Math.max(0, Math.min(index, all.length - 1))];
    chosen.classList.add("is-active");
    chosen.setAttribute("aria-selected", "true");
    root.querySelector("#picker-q")?.setAttribute("aria-activedescendant", chosen.id);
    chosen.scrollIntoView({ block: "nearest" });
  };
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-picker]");
    if (!link || event.ctrlKey || event.metaKey) return;
    const url = new URL(link.href, window.location.href);
    const opened = openDialog("picker-dialog", url.toString(), (body) => {
      activate(body, 0);
      body.querySelector("#picker-q")?.focus();
    });
    if (opened) event.preventDefault();
  });
  document.addEventListener("keydown", (event) => {
    const root = event.target.closest && event.target.closest("[data-picker-root]");
    if (!root) return;
    const all = options(root);
    const current = all.findIndex((option) => option.classList.contains("is-active"));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      activate(root, current + (event.key === "ArrowDown" ? 1 : -1));
      if (event.target.id !== "picker-q") all[Math.max(0, current)]?.focus();
    } else if (event.key === "Escape") {
      // A search box's first Esc would only clear it; Esc closes the picker, as it says.
      event.preventDefault();
      root.closest("dialog")?.close();
    } else if (event.key === "Enter" && event.target.id === "picker-q") {
      event.preventDefault();
      (all[current] || all[0])?.click();
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const root = event.detail.target.closest && event.detail.target.closest("[data-picker-root]");
    if (root || event.detail.target.id === "picker-results") {
      activate(document.querySelector("[data-picker-root]"), 0);
    }
  });

  // Insert data: a reference goes into a text field at the cursor, or maps a whole field.
  let insertTarget = null;
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-insert-for]");
    if (!button) return;
    const form = button.closest("form[data-data-url]");
    if (!form) return;
    insertTarget = document.getElementById(button.dataset.insertFor);
    const url = new URL(form.dataset.dataUrl, window.location.href);
    if (button.dataset.want) url.searchParams.set("want", button.dataset.want);
    openDialog("data-dialog", url.toString(), (body) => body.querySelector(".data-pick")?.focus());
  });
  const isText = (element) =>
    element.matches("textarea, input[type=text], input[type=email], input[type=url], input[type=date], input[type=datetime-local], input[type=search]");
  document.addEventListener("click", (event) => {
    const pick = event.target.closest(".data-pick");
    if (!pick || !insertTarget) return;
    const reference = `{{ ${pick.dataset.ref} }}`;
    const target = insertTarget;
    const form = target.closest("form");
    if (isText(target)) {
      if (target.tagName === "INPUT" && target.type !== "text") target.type = "text";
      const start = target.selectionStart ?? target.value.length;
      const end = target.selectionEnd ?? target.value.length;
      target.value = target.value.slice(0, start) + reference + target.value.slice(end);
    } else {
      const field = target.closest(".field") || target;
      let slot = field.querySelector(":scope > [data-map-slot]");
      if (!slot) {
        slot = document.createElement("input");
        slot.type = "hidden";
        slot.name = target.name;
        field.appendChild(slot);
      }
      field.querySelectorAll("input, select, textarea").forEach((control) => {
        control.disabled = control !== slot;
      });
      slot.disabled = false;
      slot.value = reference;
    }
    document.getElementById("data-dialog")?.close();
    insertTarget = null;
    saveAndRender(form);
  });
  const saveAndRender = (form) => {
    if (!form) return;
    const save = form.querySelector("button[name=_render]");
    if (save) {
      dirty.add(form);
      save.click();
    } else {
      htmx.trigger(form, "change");
    }
  };
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-unmap]");
    if (!button) return;
    const slot = document.getElementById(button.dataset.unmap);
    if (slot) slot.value = "";
    saveAndRender(button.closest("form"));
  });

  // --- drag to reorder --------------------------------------------------------------------------
  const initSortable = () => {
    const list = document.getElementById("steps");
    if (!list || typeof Sortable === "undefined" || list.dataset.sortable) return;
    list.dataset.sortable = "1";
    Sortable.create(list, {
      handle: ".drag-handle",
      draggable: ".step-card",
      animation: 150,
      onEnd: (event) => {
        if (event.oldIndex === event.newIndex) return;
        const order = Array.from(list.querySelectorAll(":scope > .step-card")).map((card) => card.dataset.key);
        flush(() => {
          htmx
            .ajax("POST", list.dataset.orderUrl, { values: { order: order.join(",") }, swap: "none", headers: { "X-CSRFToken": csrf() } })
            .then(() => window.location.reload());
        });
      },
    });
  };

  // --- times in the viewer's zone, copy buttons ------------------------------------------------
  // The server writes a time in words in the zone it belongs to (a schedule's); the viewer reads
  // it in their own zone and language. data-local="relative" shows only "3 minutes ago".
  // [unit, its length in seconds, from when it is used]: "in 12 days" rather than "next month".
  const UNITS = [
    ["year", 365 * 86400, 365 * 86400],
    ["month", 30 * 86400, 60 * 86400],
    ["day", 86400, 86400],
    ["hour", 3600, 3600],
    ["minute", 60, 60],
    ["second", 1, 0],
  ];
  const relative = (date) => {
    const seconds = (date.getTime() - Date.now()) / 1000;
    // A little slack, so 59 min 50 s reads "in 1 hour", not "in 60 minutes".
    const [unit, size] = UNITS.find(([, , from]) => Math.abs(seconds) >= from * 0.98);
    return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(Math.round(seconds / size), unit);
  };
  const localTimes = () => {
    if (typeof Intl === "undefined" || !Intl.DateTimeFormat || !Intl.RelativeTimeFormat) return;
    const absolute = new Intl.DateTimeFormat(undefined, {
      weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
    // The whole page: an out-of-band swap (the next runs) settles on another element.
    document.querySelectorAll("time[data-local]:not([data-local-done])").forEach((time) => {
      const date = new Date(time.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) return;
      time.dataset.localDone = "1";
      const written = time.textContent.trim();
      if (time.dataset.local === "relative") {
        time.textContent = relative(date);
        time.title = absolute.format(date);
        return;
      }
      time.textContent = absolute.format(date);
      time.title = written;
      const words = document.createElement("span");
      words.className = "time-relative";
      words.textContent = ` (${relative(date)})`;
      time.after(words);
    });
  };

  const copyText = async (field) => {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(field.value);
      return;
    }
    // Plain http on another host than localhost has no clipboard API: select and copy.
    field.select();
    if (!document.execCommand("copy")) throw new Error("copy refused");
  };
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    const field = document.getElementById(button.dataset.copy);
    if (!field) return;
    const before = button.dataset.label || button.textContent;
    button.dataset.label = before;
    const say = (text) => {
      button.textContent = text;
      window.setTimeout(() => (button.textContent = before), 1500);
    };
    copyText(field).then(
      () => say("Copied"),
      () => {
        field.select(); // nothing reached the clipboard: leave it selected for Ctrl-C
        say("Press Ctrl-C");
      },
    );
  });

  const init = (root) => {
    const picker = document.querySelector("dialog[open] [data-picker-root]");
    if (picker && !picker.querySelector(".picker-option.is-active")) activate(picker, 0);
    placeProblems();
    initChoices(root);
    initSortable();
    localTimes();
  };
  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:afterSettle", (event) => init(event.detail.elt || document));
  if (document.readyState !== "loading") init(document);
})();
