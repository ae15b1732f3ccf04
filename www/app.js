// httpkit default site: proves the script, stylesheet and image all arrived.
(function () {
  'use strict';
  var started = (window.performance && performance.now) ? performance.now() : null;

  document.addEventListener('DOMContentLoaded', function () {
    var status = document.getElementById('script-status');
    if (!status) return;
    var when = started !== null
      ? 'DOM ready ' + Math.round(performance.now()) + ' ms after navigation start'
      : 'current time ' + new Date().toLocaleTimeString();
    status.textContent = 'JavaScript ran: this page was served by httpkit. (' + when + '.)';
  });

  window.addEventListener('load', function () {
    var body = document.body;
    var probe = document.getElementById('stylesheet-probe');
    var img = document.getElementById('logo');

    body.dataset.script = 'ran';
    body.dataset.stylesheet = (probe && getComputedStyle(probe).width === '7px') ? 'applied' : 'missing';
    body.dataset.image = (img && img.complete && img.naturalWidth > 0) ? 'loaded' : 'missing';
    // Which protocol carried the page: http/1.1, or h2 from the http2 stage over TLS (ALPN).
    var navigation = window.performance && performance.getEntriesByType ? performance.getEntriesByType('navigation')[0] : null;
    body.dataset.protocol = (navigation && navigation.nextHopProtocol) || 'unknown';

    var checks = document.getElementById('checks');
    if (checks) {
      checks.textContent = 'Checks: script ' + body.dataset.script +
        ', stylesheet ' + body.dataset.stylesheet +
        ', image ' + body.dataset.image + '.';
    }
  });
})();
