// Keeps the parts of a console page marked data-live up to date without reloading it: the server says over
// server-sent events when something the viewer sees has changed, and the page fetches itself again and swaps those
// parts in. A part the viewer is typing in is left alone; a notice offers to refresh instead.
(function () {
  'use strict';
  var source = document.querySelector('[data-live-source]');
  if (!source || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var page = source.getAttribute('data-live-page');
  var notice = document.querySelector('[data-live-notice]');

  function busy(region) {
    var active = document.activeElement;
    if (active && active !== document.body && region.contains(active)) { return true; }
    var fields = region.querySelectorAll('textarea, input[type="text"]');
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value) { return true; }
    }
    return false;
  }

  function refresh() {
    // Marked as background: a refresh is not the person's activity and must not keep the session alive.
    fetch(page, { credentials: 'same-origin', headers: { 'Accept': 'text/html', 'CreditGate-Background': '1' } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, 'text/html');
        var regions = document.querySelectorAll('[data-live]');
        for (var i = 0; i < regions.length; i++) {
          var region = regions[i];
          var replacement = fresh.querySelector('[data-live="' + region.getAttribute('data-live') + '"]');
          if (!replacement) { continue; }
          if (busy(region)) {
            if (notice) { notice.hidden = false; }
          } else {
            region.innerHTML = replacement.innerHTML;
            region.setAttribute('data-live-updated', String(Date.now()));
          }
        }
      })
      .catch(function () { /* The next event tries again. */ });
  }

  var events = new EventSource(source.getAttribute('data-live-source'));
  events.addEventListener('changed', refresh);
})();
