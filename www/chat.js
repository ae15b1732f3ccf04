// The chat page: one WebSocket to /chat. Every line the server sends is shown; the form sends a line.
// It also checks /ws once (an echo), so a test or a learner sees both endpoints work from a browser.
"use strict";

const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const status = document.getElementById("status");
const list = document.getElementById("messages");

function show(text) {
  const item = document.createElement("li");
  item.textContent = text;
  list.appendChild(item);
  item.scrollIntoView({ block: "nearest" });
}

const chat = new WebSocket(`${scheme}//${location.host}/chat`);
chat.addEventListener("open", () => {
  status.textContent = `Connected (extensions: ${chat.extensions || "none"}).`;
  document.body.dataset.chat = "open";
});
chat.addEventListener("message", (event) => show(event.data));
chat.addEventListener("close", (event) => {
  status.textContent = `Closed: ${event.code} ${event.reason || ""}`.trim();
  document.body.dataset.chat = "closed";
});

document.getElementById("send").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  if (chat.readyState === WebSocket.OPEN && input.value) chat.send(input.value);
  input.value = "";
});

// A query string ?say=TEXT sends one message once connected (for a headless browser to test with).
const say = new URLSearchParams(location.search).get("say");
if (say) chat.addEventListener("open", () => chat.send(say));

const echo = new WebSocket(`${scheme}//${location.host}/ws`);
const probe = "echo check " + "é".repeat(200);
echo.addEventListener("open", () => echo.send(probe));
echo.addEventListener("message", (event) => {
  const ok = event.data === probe;
  document.getElementById("echo-status").textContent =
    `Echo ${ok ? "OK" : "MISMATCH"} (extensions: ${echo.extensions || "none"})`;
  echo.close(1000, "done");
});
