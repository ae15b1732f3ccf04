// The seeking page: once the media's length is known, jump near the end, as a learner dragging the
// slider would. The browser cannot have those bytes yet, so it sends a Range request for them.
"use strict";

const player = document.getElementById("player");
const status = document.getElementById("media-status");

player.addEventListener("loadedmetadata", () => {
  status.textContent = `Duration ${player.duration.toFixed(1)} s; seeking to ${(player.duration - 2).toFixed(1)} s…`;
  player.currentTime = player.duration - 2;
});
player.addEventListener("seeked", () => {
  status.textContent = `Seeked to ${player.currentTime.toFixed(1)} s.`;
  document.body.dataset.seeked = "yes";
});
player.addEventListener("error", () => {
  status.textContent = "The media file is missing: run scripts/make-media.";
  document.body.dataset.seeked = "error";
});
