// Autosave for the submission form: a few seconds after the learner stops typing, the form is
// posted as it is (CSRF token included) with Accept: application/json, and a status line says
// whether it was saved. Without this script the Save button does the same.
//
// Typed text is never lost: another form of the page (adding a file or a text, removing one,
// a voucher) first saves what is unsaved and goes ahead only once it is saved; leaving the page
// with unsaved text asks first (beforeunload, only while something is unsaved).
(function () {
  'use strict';

  var DELAY_MS = 3000;

  // On narrow screens the rubric starts folded above the editor; from 1000 px it sits beside it.
  var aside = document.getElementById('rubric-aside');
  if (aside && window.matchMedia && !window.matchMedia('(min-width: 1000px)').matches) aside.open = false;

  document.querySelectorAll('form[data-autosave]').forEach(function (form) {
    if (!window.fetch || !window.FormData || !window.URLSearchParams || !window.Promise) return;
    var status = document.getElementById(form.getAttribute('data-autosave'));
    var timer = null;
    // Edits made, and the last edit a save succeeded for: unsaved while they differ.
    var edits = 0;
    var savedEdits = 0;
    var chain = Promise.resolve(true);
    var leaving = false;

    function unsaved() { return edits !== savedEdits; }

    function say(text) {
      if (status) status.textContent = text;
    }

    function problemText(body) {
      if (body && body.errors && body.errors.length) {
        return body.errors.map(function (e) { return e.detail; }).join('; ');
      }
      return (body && body.detail) || 'please try again';
    }

    // Posts the form as it is now; resolves to whether it was saved. Saves run one after the
    // other, each with the text as it is when its turn comes.
    function saveNow() {
      if (!unsaved()) return true;
      var upTo = edits;
      say('Saving…');
      return fetch(form.action, {
        method: 'POST',
        body: new URLSearchParams(new FormData(form)),
        credentials: 'same-origin',
        headers: { 'Accept': 'application/json' }
      })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            if (response.ok) {
              savedEdits = Math.max(savedEdits, upTo);
              say(unsaved() ? 'Unsaved changes' : (body.message || 'Saved'));
              return true;
            }
            say('Not saved: ' + problemText(body) + '. Use the Save button to see the details.');
            return false;
          });
        })
        .catch(function () {
          say('Not saved: the connection failed. Your text is still here; try the Save button.');
          return false;
        });
    }

    function save() {
      clearTimeout(timer);
      chain = chain.then(saveNow, saveNow);
      return chain;
    }

    function schedule() {
      edits += 1;
      say('Unsaved changes');
      clearTimeout(timer);
      timer = setTimeout(save, DELAY_MS);
    }

    form.addEventListener('input', schedule);
    // The form's own buttons (Save, Submit) post every text part: nothing is left behind.
    form.addEventListener('submit', function () {
      clearTimeout(timer);
      leaving = true;
    });

    // Any other form of the page saves the text first, then goes ahead.
    document.querySelectorAll('form').forEach(function (other) {
      if (other === form) return;
      other.addEventListener('submit', function (event) {
        if (!unsaved()) {
          leaving = true;
          return;
        }
        event.preventDefault();
        var submitter = event.submitter || null;
        save().then(function (ok) {
          // Not saved: the other form is not sent either, and the text stays as typed.
          if (!ok) return;
          leaving = true;
          if (other.requestSubmit) other.requestSubmit(submitter); else other.submit();
        });
      });
    });

    window.addEventListener('beforeunload', function (event) {
      if (leaving || !unsaved()) return;
      event.preventDefault();
      event.returnValue = '';
    });
  });
})();
