// The preview page: tabs, the email's toggles, and live updates from /events that reload
// each preview in place, keeping where it was scrolled to.
"use strict";

const key = document.body.dataset.key;
let generation = Number(document.body.dataset.generation);
let pdfStatus = JSON.parse(document.getElementById("pdf-status").textContent);

// --- tabs ------------------------------------------------------------------------------

const tabs = Array.from(document.querySelectorAll('[role="tab"]'));

function select(tab) {
  for (const other of tabs) {
    const chosen = other === tab;
    other.setAttribute("aria-selected", String(chosen));
    other.tabIndex = chosen ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !chosen;
  }
  history.replaceState(null, "", "#" + tab.id.slice(4));
  if (tab.id === "tab-pdf") showPdf();
}

tabs.forEach((tab, index) => {
  tab.addEventListener("click", () => select(tab));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = tabs[(index + step + tabs.length) % tabs.length];
    next.focus();
    select(next);
  });
});

// --- reloading a frame where it was -------------------------------------------------

function load(frame, url) {
  let x = 0, y = 0;
  try {
    if (frame.contentWindow && frame.contentWindow.location.href !== "about:blank") {
      x = frame.contentWindow.scrollX;
      y = frame.contentWindow.scrollY;
    }
  } catch (error) { /* not loaded yet */ }
  frame.addEventListener("load", () => {
    try {
      frame.contentWindow.scrollTo(x, y);
      if (frame.classList.contains("email")) applyEmailToggles(frame);
    } catch (error) { /* a PDF viewer: nothing to restore */ }
  }, { once: true });
  frame.src = url;
}

function reloadPreviews() {
  for (const frame of document.querySelectorAll("iframe[data-src]")) {
    load(frame, shownPath(frame) + "?g=" + generation);
  }
}

// The page a frame shows now, if the reader followed a link inside its edition (the web
// edition's language switch): a rebuild reloads that page, not the one the frame started on.
function shownPath(frame) {
  try {
    const path = frame.contentWindow.location.pathname;
    if (frame.dataset.scope && path.startsWith(frame.dataset.scope)) return path;
  } catch (error) { /* not loaded yet */ }
  return frame.dataset.src;
}

// --- the email's toggles: dark mode and images off, applied inside the frame ----------

const dark = document.getElementById("email-dark");
const imagesOff = document.getElementById("email-images-off");

function applyEmailToggles(frame) {
  const doc = frame.contentDocument;
  if (!doc) return;
  for (const sheet of Array.from(doc.styleSheets)) {
    let rules;
    try { rules = Array.from(sheet.cssRules); } catch (error) { continue; }
    for (const rule of rules) {
      if (!(rule instanceof frame.contentWindow.CSSMediaRule)) continue;
      const text = rule.__original || rule.media.mediaText;
      if (!/prefers-color-scheme:\s*dark/.test(text)) continue;
      rule.__original = text;
      // The mail client's dark mode, whatever the computer's own setting.
      rule.media.mediaText = dark.checked ? text.replace(/\(?prefers-color-scheme:\s*dark\)?/, "all") : "not all";
    }
  }
  doc.documentElement.style.colorScheme = dark.checked ? "dark" : "light";
  for (const img of Array.from(doc.images)) {
    if (imagesOff.checked && img.hasAttribute("src")) {
      img.dataset.src = img.getAttribute("src");
      img.removeAttribute("src");  // what a client that blocks images shows: the alt text
    } else if (!imagesOff.checked && img.dataset.src) {
      img.setAttribute("src", img.dataset.src);
      delete img.dataset.src;
    }
  }
}

for (const toggle of [dark, imagesOff]) {
  toggle.addEventListener("change", () => {
    document.querySelectorAll("iframe.email").forEach(applyEmailToggles);
  });
}

// --- the PDF tab ----------------------------------------------------------------------

const pdfFrame = document.querySelector("iframe.pdf");
const pdfChoice = document.getElementById("pdf-choice");
const pdfState = document.getElementById("pdf-state");
const pdfBadge = document.getElementById("pdf-badge");
const pdfOpen = document.getElementById("pdf-open");
let pdfShown = null;

function pdfUrl() {
  return pdfFrame.dataset.base + pdfChoice.value + ".pdf";
}

function describePdf() {
  const status = pdfStatus[pdfChoice.value] || { state: "none" };
  const words = {
    ready: `${status.pages} page${status.pages === 1 ? "" : "s"}, rendered in ${status.seconds} s`,
    rendering: "Rendering…",
    stale: "Rendering the new version…",
    failed: status.failure || "Could not be rendered",
    none: "Renders when you open it",
  };
  pdfState.textContent = words[status.state] || "";
  const busy = Object.values(pdfStatus).some((s) => s.state === "rendering");
  pdfBadge.textContent = busy ? "…" : "";
  pdfBadge.title = busy ? "PDF rendering" : "";
  pdfOpen.href = pdfUrl();
}

function showPdf() {
  describePdf();
  const status = pdfStatus[pdfChoice.value] || {};
  const wanted = pdfUrl() + "?g=" + status.generation;
  if (pdfShown !== wanted && (status.state === "ready" || pdfShown === null || !pdfShown.startsWith(pdfUrl()))) {
    pdfShown = wanted;
    load(pdfFrame, wanted);
  }
}

pdfChoice.addEventListener("change", showPdf);

// --- live updates ---------------------------------------------------------------------

const statusLine = document.getElementById("status");

function update(data) {
  pdfStatus = data.pdf;
  if (data.generation !== generation) {
    generation = data.generation;
    document.body.dataset.generation = String(generation);
    document.getElementById("problems").innerHTML = data.problems;  // rendered and escaped by the server
    document.body.className = data.ok ? "ok" : "broken";
    if (data.ok) reloadPreviews();
    const time = new Date().toLocaleTimeString();
    statusLine.textContent = data.ok ? `Updated at ${time}` : `Errors at ${time}: the preview is back once they are fixed`;
  }
  describePdf();
  if (!document.getElementById("panel-pdf").hidden) showPdf();
}

const events = new EventSource("/events");
events.addEventListener("update", (message) => {
  const data = JSON.parse(message.data);
  if (data.key === key) update(data);
});
events.addEventListener("error", () => {
  statusLine.textContent = "Not connected: is research-news serve still running?";
});
events.addEventListener("open", () => {
  if (statusLine.textContent.startsWith("Not connected")) location.reload();
});

// --- start ------------------------------------------------------------------------------

if (document.body.className === "ok") reloadPreviews();
const start = document.getElementById("tab-" + location.hash.slice(1));
select(start || tabs[0]);
describePdf();
