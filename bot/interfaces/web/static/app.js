// finbot's page: asks POST /v1/ask and shows the answer, its numbered sources and, for a metric value, the SQL.
// Plain DOM (textContent only: nothing from the server is parsed as HTML); the API key, when the server wants
// one, lives in sessionStorage (this tab only).
"use strict";

const KEY_STORAGE = "finbot.apiKey";
const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function setStatus(text, isError) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

function lines(source) {
  if (source.page) return ` p.${source.page}`;
  if (source.start_line) return `:${source.start_line}-${source.end_line}`;
  return "";
}

// slack.source_url_template, filled like Slack's links: no line fragment for a PDF page or a source without lines.
function sourceUrl(source) {
  const meta = document.querySelector('meta[name="finbot-source-url"]');
  let template = meta ? meta.content : "";
  if (!/^https?:\/\//.test(template)) return null;
  if (!source.start_line || !source.end_line || source.page) template = template.split("#")[0];
  return template
    .replaceAll("{path}", encodeURI(source.path))
    .replaceAll("{start_line}", String(source.start_line))
    .replaceAll("{end_line}", String(source.end_line));
}

// The answer text with each [n] a link to its source.
function renderAnswer(text, count) {
  const box = $("answer");
  box.replaceChildren();
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const n = Number(match[1]);
    if (n < 1 || n > count) continue;
    box.append(text.slice(last, match.index));
    const link = el("a", null, match[0]);
    link.href = `#source-${n}`;
    box.append(link);
    last = match.index + match[0].length;
  }
  box.append(text.slice(last));
}

function renderSources(sources) {
  const list = $("sources");
  list.replaceChildren();
  for (const source of sources) {
    const item = el("li");
    item.id = `source-${source.n}`;
    item.value = source.n;
    const label = `${source.path}${lines(source)}`;
    const url = sourceUrl(source);
    if (url) {
      const link = el("a", "source-path", label);
      link.href = url;
      link.rel = "noopener noreferrer";
      item.append(link);
    } else {
      item.append(el("span", "source-path", label));
    }
    if (source.section) item.append(" ", el("span", "source-section", `§ ${source.section}`));
    item.append(" ", el("span", "source-score", `score ${source.score.toFixed(2)}`));
    if (source.snippet) item.append(el("p", "snippet", source.snippet));
    list.append(item);
  }
}

function formatNumber(value, unit) {
  if (value === null || value === undefined) return "no value";
  const digits = Number.isInteger(Number(value)) ? 0 : 2;
  const number = Number(value).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit ? `${unit} ${number}` : number;
}

function renderValue(value) {
  const box = $("value");
  box.hidden = !value || value.refused;
  if (box.hidden) return;
  $("value-figure").textContent = value.group_by
    ? `${value.metric} by ${value.group_by}, ${value.period}`
    : `${value.metric}, ${value.period}: ${formatNumber(value.value, value.unit)}`;
  const table = $("value-rows");
  const body = table.querySelector("tbody");
  body.replaceChildren();
  table.hidden = !value.rows;
  if (value.rows) {
    $("value-dimension").textContent = value.group_by;
    for (const [key, number] of value.rows) {
      const row = el("tr");
      row.append(el("td", null, key), el("td", "number", formatNumber(number, value.unit)));
      body.append(row);
    }
  }
  $("value-sql").textContent = value.sql || "";
}

function render(body) {
  $("refusal").hidden = !body.abstained;
  renderAnswer(body.answer, body.sources.length);
  renderValue(body.value);
  $("confidence").textContent = `Confidence ${body.confidence.toFixed(2)}`;
  $("sources-heading").textContent = body.abstained ? "Closest passages" : "Sources";
  renderSources(body.sources);
  $("result").hidden = false;
}

function errorText(body, status) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
  return `The server answered ${status}.`;
}

async function ask() {
  const question = $("question").value.trim();
  if (!question) {
    setStatus("Type a question first, e.g. 'How is ARR calculated?'", true);
    return;
  }
  const request = { question };
  if ($("doc-type").value) request.doc_type = $("doc-type").value;
  if ($("path-prefix").value.trim()) request.path_prefix = $("path-prefix").value.trim();
  const headers = { "Content-Type": "application/json" };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers["X-API-Key"] = key;

  $("ask-button").disabled = true;
  setStatus("Searching the documents…");
  try {
    const response = await fetch("/v1/ask", { method: "POST", headers, body: JSON.stringify(request) });
    const body = await response.json().catch(() => null);
    if (response.status === 401) {
      sessionStorage.removeItem(KEY_STORAGE);
      $("key-message").textContent = key
        ? "That API key was not accepted. Paste another of this server's keys."
        : "This server needs an API key. Paste one of its keys; it is kept in this browser tab only.";
      $("key-form").hidden = false;
      $("api-key").focus();
      setStatus("An API key is needed to ask.", true);
      return;
    }
    if (!response.ok || !body) {
      setStatus(errorText(body, response.status), true);
      return;
    }
    setStatus("");
    render(body);
  } catch (error) {
    setStatus(`Could not reach the server (${error.message}).`, true);
  } finally {
    $("ask-button").disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    $("api-key").value = "";
    $("key-form").hidden = true;
    ask();
  });
});
