// The report viewer is for reading on screen only (不能下载、不能打印、不能复制): selection, copying, dragging, the context
// menu and the keyboard shortcuts for copy, save and print are turned off. A print shows only a notice (see the
// stylesheet). None of this stops a camera; the watermark drawn by the server is what makes a photograph traceable.
(function () {
  'use strict';
  var report = document.querySelector('[data-testid=report]');
  if (!report) { return; }
  var stop = function (event) { event.preventDefault(); event.stopPropagation(); return false; };
  ['copy', 'cut', 'contextmenu', 'selectstart', 'dragstart'].forEach(function (name) {
    document.addEventListener(name, stop, true);
  });
  document.addEventListener('keydown', function (event) {
    var key = (event.key || '').toLowerCase();
    if ((event.ctrlKey || event.metaKey) && ['a', 'c', 'x', 'p', 's'].indexOf(key) >= 0) { stop(event); }
    if (key === 'printscreen') { stop(event); }
  }, true);
  window.addEventListener('beforeprint', function () { document.body.classList.add('printing'); });
  window.addEventListener('afterprint', function () { document.body.classList.remove('printing'); });
  if (window.getSelection) { window.getSelection().removeAllRanges(); }
})();
