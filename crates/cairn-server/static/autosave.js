// Autosave for the submission form: a few seconds after the learner stops typing, the form is
// posted as it is (CSRF token included) with Accept: application/json, and a status line says
// whether it was saved. Without this script the Save button does the same.
(function () {
  'use strict';

  var DELAY_MS = 3000;

  document.querySelectorAll('form[data-autosave]').forEach(function (form) {
    if (!window.fetch || !window.FormData || !window.URLSearchParams) return;
    var status = document.getElementById(form.getAttribute('data-autosave'));
    var timer = null;
    var saving = false;
    var pending = false;

    function say(text) {
      if (status) status.textContent = text;
    }

    function problemText(body) {
      if (body && body.errors && body.errors.length) {
        return body.errors.map(function (e) { return e.detail; }).join('; ');
      }
      return (body && body.detail) || 'please try again';
    }

    function save() {
      if (saving) { pending = true; return; }
      saving = true;
      pending = false;
      say('Saving…');
      fetch(form.action, {
        method: 'POST',
        body: new URLSearchParams(new FormData(form)),
        credentials: 'same-origin',
        headers: { 'Accept': 'application/json' }
      })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            if (response.ok) {
              say(body.message || 'Saved');
            } else {
              say('Not saved: ' + problemText(body) + '. Use the Save button to see the details.');
            }
          });
        })
        .catch(function () {
          say('Not saved: the connection failed. Your text is still here; try the Save button.');
        })
        .then(function () {
          saving = false;
          if (pending) schedule();
        });
    }

    function schedule() {
      say('Unsaved changes');
      clearTimeout(timer);
      timer = setTimeout(save, DELAY_MS);
    }

    form.addEventListener('input', schedule);
    form.addEventListener('submit', function () { clearTimeout(timer); });
  });
})();
