// innersearch UI: search as you type, keyboard navigation, jump-to-definition popovers.
// Hand-written and dependency-free; every page also works without it.
"use strict";

(function () {
  const DEBOUNCE_MS = 180;

  function isTyping(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
  }

  // --- search as you type ---------------------------------------------------------------
  function setupSearch() {
    const input = document.getElementById("q");
    const results = document.getElementById("results");
    if (!input || !results) return;
    let timer = null;
    let inflight = null;
    let last = input.value;

    async function run() {
      const q = input.value.trim();
      if (q === last.trim()) return;
      last = input.value;
      if (inflight) inflight.abort();
      inflight = new AbortController();
      const url = new URL(input.dataset.resultsUrl, location.href);
      if (q) url.searchParams.set("q", q);
      results.classList.add("loading");
      try {
        const response = await fetch(url, { signal: inflight.signal, headers: { Accept: "text/html" } });
        results.innerHTML = await response.text();
        const page = new URL(location.href);
        page.search = q ? "?" + new URLSearchParams({ q }).toString() : "";
        history.replaceState(null, "", page);
        document.title = (q || "Search") + " · innersearch";
      } catch (err) {
        if (err.name !== "AbortError") results.textContent = "Search failed: " + err.message;
      } finally {
        results.classList.remove("loading");
      }
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, DEBOUNCE_MS);
    });
  }

  // --- keyboard navigation over result lines --------------------------------------------
  function resultLinks() {
    return Array.from(document.querySelectorAll("#results a.nav"));
  }

  function move(step) {
    const links = resultLinks();
    if (!links.length) return;
    const at = links.indexOf(document.activeElement);
    const next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
    document.querySelectorAll(".result.selected").forEach(function (el) { el.classList.remove("selected"); });
    links[next].focus();
    const card = links[next].closest(".result");
    if (card) card.classList.add("selected");
    links[next].scrollIntoView({ block: "nearest" });
  }

  function setupKeys() {
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const box = document.getElementById("q") || document.querySelector(".topsearch input");
      if (event.key === "Escape") {
        closePopover();
        if (box && document.activeElement !== box) box.focus();
        return;
      }
      const inBox = event.target === document.getElementById("q");
      if (inBox && event.key === "ArrowDown") {
        event.preventDefault();
        move(1);
        return;
      }
      if (isTyping(event.target)) return;
      if (event.key === "/" && box) {
        event.preventDefault();
        box.focus();
        box.select();
      } else if (event.key === "j" || event.key === "ArrowDown") {
        if (resultLinks().length) { event.preventDefault(); move(1); }
      } else if (event.key === "k" || event.key === "ArrowUp") {
        if (resultLinks().length) { event.preventDefault(); move(-1); }
      }
    });
  }

  // --- identifiers: definition popover ----------------------------------------------------
  let popover = null;

  function closePopover() {
    if (popover) popover.remove();
    popover = null;
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([k, v]) { node.setAttribute(k, v); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fileUrl(def) {
    const url = new URL("/file", location.href);
    url.searchParams.set("repo", def.repo);
    url.searchParams.set("path", def.path);
    if (def.branch) url.searchParams.set("branch", def.branch);
    url.hash = "L" + def.line;
    return url.pathname + url.search + url.hash;
  }

  async function showDefinition(link, table) {
    closePopover();
    const row = link.closest("tr");
    const url = new URL(table.dataset.definitionUrl, location.href);
    url.searchParams.set("repo", table.dataset.repo);
    url.searchParams.set("path", table.dataset.path);
    url.searchParams.set("branch", table.dataset.branch);
    url.searchParams.set("line", row.id.slice(1));
    url.searchParams.set("column", link.dataset.col);
    const box = el("div", { class: "popover", role: "dialog" });
    box.appendChild(el("h4", {}, link.dataset.name));
    const list = el("ul");
    box.appendChild(list);
    list.appendChild(el("li", { class: "muted" }, "Looking up the definition…"));
    const actions = el("div", { class: "actions" });
    actions.appendChild(el("a", { href: link.getAttribute("href"), class: "refs-link" }, "Definition and all uses →"));
    box.appendChild(actions);
    const rect = link.getBoundingClientRect();
    box.style.left = Math.max(8, rect.left + window.scrollX) + "px";
    box.style.top = rect.bottom + window.scrollY + 4 + "px";
    document.body.appendChild(box);
    popover = box;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      const found = await response.json();
      list.textContent = "";
      const defs = (found && found.definitions) || [];
      if (!response.ok) {
        list.appendChild(el("li", { class: "muted" }, found.error || "Lookup failed."));
      } else if (!defs.length) {
        list.appendChild(el("li", { class: "muted" }, "No definition in the index."));
      }
      defs.slice(0, 8).forEach(function (def) {
        const item = el("li");
        const a = el("a", { href: fileUrl(def), class: "def-link" });
        a.appendChild(el("span", { class: "kind kind-" + def.kind }, (def.kind || "?").charAt(0).toUpperCase()));
        a.appendChild(document.createTextNode(def.repo + " › " + def.path + ":" + def.line));
        item.appendChild(a);
        list.appendChild(item);
      });
    } catch (err) {
      list.textContent = "";
      list.appendChild(el("li", { class: "muted" }, "Lookup failed: " + err.message));
    }
  }

  function setupIdentifiers() {
    const table = document.querySelector("table.code.file");
    if (!table) return;
    table.addEventListener("click", function (event) {
      const link = event.target.closest("a.id");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      showDefinition(link, table);
    });
    document.addEventListener("click", function (event) {
      if (popover && !popover.contains(event.target) && !event.target.closest("a.id")) closePopover();
    });
  }

  // CSP forbids inline styles in markup, but a popover's position is set from script: allowed
  // because it goes through the CSSOM, not a style attribute in HTML.
  document.addEventListener("DOMContentLoaded", function () {
    setupSearch();
    setupKeys();
    setupIdentifiers();
  });
})();
