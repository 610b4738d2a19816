// finbot's page: asks POST /v1/ask/stream (Server-Sent Events read from fetch: sources, the draft, the answer)
// and shows the answer, its numbered sources and, for a metric value, the SQL; keeps the conversation's earlier
// turns for follow-ups, and sends thumbs up/down to POST /v1/feedback.
// Plain DOM (textContent only: nothing from the server is parsed as HTML); the API key, when the server wants
// one, and a random id for this tab (so the server can count people, not requests) live in sessionStorage.
"use strict";

const KEY_STORAGE = "finbot.apiKey";
const SESSION_STORAGE = "finbot.session";
const MAX_TURNS = 10; // the API's limit on `conversation`
const TURN_ANSWER_CHARS = 4000;
const state = { turns: [], current: null, retry: null };
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

function sessionId() {
  let id = sessionStorage.getItem(SESSION_STORAGE);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(SESSION_STORAGE, id);
  }
  return id;
}

// Every request says it comes from the page (so the server records it as the web's, not the plain API's).
function headers() {
  const result = { "Content-Type": "application/json", "X-Finbot-Client": "web", "X-Finbot-Session": sessionId() };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) result["X-API-Key"] = key;
  return result;
}

// A 401: ask for a key once, then run `retry` with it.
function needKey(retry) {
  const hadKey = Boolean(sessionStorage.getItem(KEY_STORAGE));
  sessionStorage.removeItem(KEY_STORAGE);
  $("key-message").textContent = hadKey
    ? "That API key was not accepted. Paste another of this server's keys."
    : "This server needs an API key. Paste one of its keys; it is kept in this browser tab only.";
  $("key-form").hidden = false;
  $("api-key").focus();
  state.retry = retry;
  setStatus("An API key is needed to ask.", true);
}

// The Server-Sent Events of a fetch body: calls onEvent(name, data) for each complete event.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      let name = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
    if (done) return;
  }
}

function resetVotes(answerId) {
  $("votes").hidden = !answerId;
  $("comment-form").hidden = true;
  $("comment").value = "";
  $("vote-status").textContent = "";
  for (const id of ["vote-up", "vote-down"]) $(id).setAttribute("aria-pressed", "false");
}

function renderThread() {
  const list = $("thread");
  list.replaceChildren();
  for (const turn of state.turns) {
    const item = el("li");
    const lead = turn.answer.split("\n").find((line) => line.trim()) || ""; // the whole answer is still sent
    item.append(el("p", "turn-question", turn.question), el("p", "turn-answer", lead));
    list.append(item);
  }
  $("conversation").hidden = state.turns.length === 0;
  $("follow-up-note").hidden = state.turns.length === 0 && !state.current;
}

function newConversation() {
  state.turns = [];
  state.current = null;
  $("result").hidden = true;
  renderThread();
  setStatus("");
  $("question").value = "";
  $("question").focus();
}

async function ask() {
  const question = $("question").value.trim();
  if (!question) {
    setStatus("Type a question first, e.g. 'How is ARR calculated?'", true);
    return;
  }
  // The answer on screen becomes an earlier turn: a follow-up is read with it.
  const turns = state.current ? [...state.turns, state.current] : state.turns;
  const request = { question };
  if ($("doc-type").value) request.doc_type = $("doc-type").value;
  if ($("path-prefix").value.trim()) request.path_prefix = $("path-prefix").value.trim();
  if (turns.length) request.conversation = turnsForApi(turns.slice(-MAX_TURNS));

  $("ask-button").disabled = true;
  setStatus("Searching the documents…");
  try {
    const response = await fetch("/v1/ask/stream", { method: "POST", headers: headers(), body: JSON.stringify(request) });
    if (response.status === 401) {
      needKey(ask);
      return;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      setStatus(errorText(body, response.status), true);
      return;
    }
    let final = null;
    await readEvents(response, (name, data) => {
      if (name === "sources") {
        state.turns = turns;
        state.current = null;
        renderThread();
        $("asked").textContent = question;
        $("refusal").hidden = true;
        $("value").hidden = true;
        $("answer").replaceChildren();
        $("confidence").textContent = "";
        resetVotes(null);
        $("sources-heading").textContent = "Sources";
        renderSources(data.sources);
        $("result").hidden = false;
        setStatus("Writing the answer…");
      } else if (name === "delta") {
        $("answer").append(data.text); // the model's draft; the checked answer replaces it
      } else if (name === "answer") {
        final = data;
        render(data);
      }
    });
    if (!final) {
      setStatus("The answer was cut off; ask again.", true);
      return;
    }
    const answerText = final.answer.slice(0, TURN_ANSWER_CHARS);
    state.current = { question, answer: answerText, id: response.headers.get("X-Answer-Id") };
    resetVotes(state.current.id);
    renderThread();
    $("question").value = "";
    setStatus("");
  } catch (error) {
    setStatus(`Could not reach the server (${error.message}).`, true);
  } finally {
    $("ask-button").disabled = false;
  }
}

// conversation turns sent to the API are {question, answer}; the id stays on the page.
function turnsForApi(turns) {
  return turns.map((t) => ({ question: t.question, answer: t.answer }));
}

async function vote(kind, comment) {
  const answer = state.current;
  if (!answer || !answer.id) return;
  const body = { answer_id: answer.id, vote: kind };
  if (comment) body.comment = comment;
  $("vote-status").textContent = "Saving…";
  try {
    const response = await fetch("/v1/feedback", { method: "POST", headers: headers(), body: JSON.stringify(body) });
    if (response.status === 401) {
      $("vote-status").textContent = "";
      needKey(() => vote(kind, comment));
      return;
    }
    if (!response.ok) {
      const error = await response.json().catch(() => null);
      $("vote-status").textContent = errorText(error, response.status);
      return;
    }
  } catch (error) {
    $("vote-status").textContent = `Could not reach the server (${error.message}).`;
    return;
  }
  $("vote-up").setAttribute("aria-pressed", String(kind === "up"));
  $("vote-down").setAttribute("aria-pressed", String(kind === "down"));
  if (kind === "down" && !comment) {
    $("vote-status").textContent = "Thanks. What was wrong? (optional)";
    $("comment-form").hidden = false;
    $("comment").focus();
  } else {
    $("comment-form").hidden = true;
    $("vote-status").textContent = comment ? "Thanks: your comment was saved." : "Thanks: your vote was saved.";
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
    setStatus("");
    const retry = state.retry || ask;
    state.retry = null;
    retry();
  });
  $("new-conversation").addEventListener("click", newConversation);
  $("vote-up").addEventListener("click", () => vote("up"));
  $("vote-down").addEventListener("click", () => vote("down"));
  $("comment-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const comment = $("comment").value.trim();
    if (comment) vote("down", comment);
    else $("comment-form").hidden = true;
  });
  $("comment").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { // Enter sends, Shift+Enter is a new line
      event.preventDefault();
      $("comment-form").requestSubmit();
    }
  });
});
