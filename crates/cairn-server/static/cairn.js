// Cairn's progressive enhancement. Every page works without it; this only makes a few forms
// kinder: rubric level names label the descriptor fields and required-level choices as they are
// typed, empty repeating rows are folded behind an "Add" button, and one-time secrets can be
// copied with a click; the narrow-screen menu says whether it is open, and closes with Escape or
// a click elsewhere.
(function () {
  'use strict';

  // Rubric editors: keep option and descriptor labels in step with the level names.
  document.querySelectorAll('[data-rubric-editor]').forEach(function (editor) {
    var levelInputs = Array.prototype.slice.call(editor.querySelectorAll('.level-inputs input'));
    function columnName(j) {
      var value = levelInputs[j] ? levelInputs[j].value.trim() : '';
      return value || 'Performance level ' + (j + 1);
    }
    function refresh() {
      editor.querySelectorAll('.criterion-editor').forEach(function (row, i) {
        row.querySelectorAll('select option').forEach(function (option) {
          var j = parseInt(option.value, 10);
          if (!isNaN(j)) option.textContent = columnName(j - 1);
        });
        row.querySelectorAll('.descriptor-grid label').forEach(function (label, j) {
          label.textContent = 'Criterion ' + (i + 1) + ' at ' + columnName(j);
        });
      });
    }
    levelInputs.forEach(function (input) { input.addEventListener('input', refresh); });
  });

  // Repeating rows: show the filled ones and one empty row; an "Add" button reveals the rest.
  function isEmpty(row) {
    var fields = row.querySelectorAll('input:not([type=hidden]), textarea');
    for (var k = 0; k < fields.length; k++) {
      if (fields[k].value.trim() !== '') return false;
    }
    return !row.querySelector('[aria-invalid=true]');
  }
  document.querySelectorAll('.group').forEach(function (group) {
    var rows = Array.prototype.slice.call(group.querySelectorAll(':scope > [data-repeat-row]'));
    if (rows.length < 2) return;
    var shownEmpty = 0;
    var hidden = [];
    rows.forEach(function (row) {
      if (isEmpty(row)) {
        if (shownEmpty >= 1) { row.hidden = true; hidden.push(row); } else { shownEmpty += 1; }
      }
    });
    if (!hidden.length) return;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'button button-secondary button-small add-row';
    button.textContent = group.classList.contains('rubric-editor') ? 'Add a criterion' : 'Add a competency';
    button.addEventListener('click', function () {
      var next = hidden.shift();
      if (next) {
        next.hidden = false;
        var first = next.querySelector('input:not([type=hidden]), textarea');
        if (first) first.focus();
      }
      if (!hidden.length) button.remove();
    });
    group.appendChild(button);
  });

  // One-time secrets: a copy button.
  document.querySelectorAll('[data-copy]').forEach(function (button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = 'Copied';
      });
    });
  });

  // The navigation menu (<details>, which opens and closes without this): its button says
  // whether it is expanded, Escape closes it and gives the button focus, a click outside closes it.
  document.querySelectorAll('.nav-menu').forEach(function (menu) {
    var button = menu.querySelector('summary');
    if (!button) return;
    function sync() { button.setAttribute('aria-expanded', menu.open ? 'true' : 'false'); }
    sync();
    menu.addEventListener('toggle', sync);
    menu.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && menu.open) {
        menu.open = false;
        button.focus();
      }
    });
    document.addEventListener('click', function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
  });

  // Error summaries take focus, so keyboard and screen-reader users land on them.
  var summary = document.getElementById('error-summary');
  if (summary) summary.focus();
})();
