// The authoring form in steps. Without this script the form is one page and works the same;
// with it, each part (the micro-credential and each of its levels, or an achievement's details,
// competencies and rubric) is a step of its own, reached with Next and Back or from the list of
// steps, and the last step reviews everything before it is saved. Rubric editors show only the
// performance levels in use, with a button to add one.
(function () {
  'use strict';

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function make(tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  // Performance levels: the named ones (and any with a descriptor or an error) show; the rest
  // wait behind "Add a performance level", with their descriptors and pass-mark choices.
  each(document.querySelectorAll('[data-rubric-editor]'), function (editor) {
    var levelFields = Array.prototype.slice.call(editor.querySelectorAll('.level-inputs .field'));
    if (!levelFields.length) return;
    var rows = editor.querySelectorAll('.criterion-editor');
    function inUse(j) {
      var input = levelFields[j].querySelector('input');
      if (input && input.value.trim() !== '') return true;
      if (levelFields[j].querySelector('[aria-invalid=true]')) return true;
      var used = false;
      each(rows, function (row) {
        var descriptor = row.querySelectorAll('.descriptor-grid .field')[j];
        if (descriptor && (descriptor.querySelector('textarea').value.trim() !== '' || descriptor.querySelector('[aria-invalid=true]'))) used = true;
      });
      return used;
    }
    var shown = 2;
    levelFields.forEach(function (field, j) { if (inUse(j)) shown = Math.max(shown, j + 1); });
    var button = make('button', 'button button-secondary button-small add-level', 'Add a performance level');
    button.type = 'button';
    function apply() {
      levelFields.forEach(function (field, j) { field.hidden = j >= shown; });
      each(rows, function (row) {
        each(row.querySelectorAll('.descriptor-grid .field'), function (field, j) { field.hidden = j >= shown; });
        each(row.querySelectorAll('select option'), function (option) {
          var j = parseInt(option.value, 10);
          if (!isNaN(j)) option.hidden = j > shown;
        });
      });
      button.hidden = shown >= levelFields.length;
    }
    button.addEventListener('click', function () {
      shown = Math.min(shown + 1, levelFields.length);
      apply();
      var input = levelFields[shown - 1].querySelector('input');
      if (input) input.focus();
    });
    editor.querySelector('.rubric-levels').appendChild(button);
    apply();
  });

  var form = document.querySelector('form[data-steps]');
  if (!form) return;
  var steps = Array.prototype.slice.call(form.querySelectorAll('[data-step]'));
  if (steps.length < 2) return;
  var actions = form.querySelector('[data-step-actions]');
  var single = !form.querySelector('section[data-step]');
  form.classList.add('stepped');

  // The review: the last step, holding the save button.
  var review = make('section', 'form-section step-review');
  review.setAttribute('data-step', 'Review');
  var reviewHeading = make('h2', null, 'Review');
  review.appendChild(reviewHeading);
  review.appendChild(make('p', 'hint', 'Check what you wrote. Edit any step, then save: nothing is published until you publish it from the achievement\'s page.'));
  var reviewBody = make('div', 'review-body');
  review.appendChild(reviewBody);
  form.insertBefore(review, actions);
  review.appendChild(actions);
  steps.push(review);

  function title(step) { return step.getAttribute('data-step'); }
  function heading(step) { return step.querySelector('h2, legend'); }

  // The list of steps, and the line saying where the author is.
  var nav = make('nav', 'stepper');
  nav.setAttribute('aria-label', 'Steps');
  var list = make('ol');
  var links = steps.map(function (step, i) {
    var item = make('li');
    var link = make('button', 'step-link', title(step));
    link.type = 'button';
    link.addEventListener('click', function () { show(i, true); });
    item.appendChild(link);
    list.appendChild(item);
    return link;
  });
  nav.appendChild(list);
  var status = make('p', 'step-status');
  status.setAttribute('aria-live', 'polite');
  nav.appendChild(status);
  form.insertBefore(nav, form.firstChild);

  // Back and Next under each step.
  steps.forEach(function (step, i) {
    var bar = make('div', 'step-nav');
    if (i > 0) {
      var back = make('button', 'button button-secondary', 'Back');
      back.type = 'button';
      back.addEventListener('click', function () { show(i - 1, true); });
      bar.appendChild(back);
    }
    if (i < steps.length - 1) {
      var next = make('button', 'button step-next', 'Next: ' + title(steps[i + 1]));
      next.type = 'button';
      next.addEventListener('click', function () { show(i + 1, true); });
      bar.appendChild(next);
    }
    if (step === review) review.insertBefore(bar, actions); else step.appendChild(bar);
  });

  // In one achievement's form, the section's heading would name the first step only.
  if (single) {
    var sectionHeading = form.querySelector('section > h2');
    if (sectionHeading) sectionHeading.hidden = true;
  }

  function labelOf(control) {
    var label = control.id && form.querySelector('label[for="' + control.id + '"]');
    return label ? label.textContent.replace(/\s+/g, ' ').replace(/\s*\(required\)\s*$/, '').trim() : control.name;
  }

  function summarise() {
    reviewBody.textContent = '';
    steps.forEach(function (step, i) {
      if (step === review) return;
      var part = make('section', 'review-step');
      var head = make('div', 'review-step-head');
      head.appendChild(make('h3', null, title(step)));
      var edit = make('button', 'button button-secondary button-small', 'Edit');
      edit.type = 'button';
      edit.setAttribute('aria-label', 'Edit ' + title(step));
      edit.addEventListener('click', function () { show(i, true); });
      head.appendChild(edit);
      part.appendChild(head);
      var facts = make('dl', 'review-facts');
      var descriptors = 0;
      var nameMissing = false;
      each(step.querySelectorAll('input:not([type=hidden]), textarea, select'), function (control) {
        if (control.type === 'checkbox' && !control.checked) return;
        var value = control.tagName === 'SELECT'
          ? (control.value ? control.options[control.selectedIndex].textContent : '')
          : control.type === 'checkbox' ? 'Yes' : control.value.trim();
        if (/^(level\d_)?name$/.test(control.name) && !value) nameMissing = true;
        if (!value) return;
        // A criterion row without a name is skipped on saving, whatever its pass mark says.
        var criterion = control.closest('.criterion-editor');
        var criterionName = criterion && criterion.querySelector('input[name$="_name"]');
        if (criterionName && criterionName.value.trim() === '') return;
        if (control.closest('.descriptor-grid')) { descriptors += 1; return; }
        var row = make('div');
        row.appendChild(make('dt', null, labelOf(control)));
        row.appendChild(make('dd', null, value.length > 160 ? value.slice(0, 157) + '…' : value));
        facts.appendChild(row);
      });
      if (descriptors) {
        var written = make('div');
        written.appendChild(make('dt', null, 'Rubric descriptors'));
        written.appendChild(make('dd', null, descriptors + ' written'));
        facts.appendChild(written);
      }
      if (nameMissing) part.appendChild(make('p', 'review-missing', 'The name is missing: saving will ask for it.'));
      if (facts.children.length) part.appendChild(facts); else part.appendChild(make('p', 'muted', 'Nothing filled in.'));
      reviewBody.appendChild(part);
    });
  }

  var current = 0;
  function show(i, focus) {
    current = i;
    steps.forEach(function (step, k) { step.hidden = k !== i; });
    links.forEach(function (link, k) {
      if (k === i) link.setAttribute('aria-current', 'step'); else link.removeAttribute('aria-current');
    });
    status.textContent = 'Step ' + (i + 1) + ' of ' + steps.length + ': ' + title(steps[i]);
    if (steps[i] === review) summarise();
    if (focus) {
      var target = steps[i] === review ? reviewHeading : heading(steps[i]);
      if (target && target.tagName === 'LEGEND') target = target.parentElement;
      if (target) {
        if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
        target.focus();
        nav.scrollIntoView({ block: 'start' });
      }
    }
  }
  function stepOf(element) {
    for (var k = 0; k < steps.length; k++) if (steps[k].contains(element)) return k;
    return -1;
  }

  // Enter in a one-line field moves on instead of saving half-way.
  form.addEventListener('keydown', function (event) {
    var target = event.target;
    if (event.key !== 'Enter' || target.tagName !== 'INPUT' || steps[current] === review) return;
    event.preventDefault();
    show(current + 1, true);
  });

  // Links in the error summary open the step that holds their field.
  each(document.querySelectorAll('.error-summary a[href^="#"]'), function (link) {
    link.addEventListener('click', function () {
      var field = document.getElementById(link.getAttribute('href').slice(1));
      var k = field ? stepOf(field) : -1;
      if (k >= 0) show(k, false);
    });
  });

  // Start where the first error is, or at the beginning.
  var invalid = form.querySelector('[aria-invalid=true], .field-error');
  var start = invalid ? stepOf(invalid) : -1;
  show(start < 0 ? 0 : start, false);
})();
