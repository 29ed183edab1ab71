// SPDX-License-Identifier: Apache-2.0
// NAT-PMP console pages: polls the page's JSON document and redraws. Values are only ever inserted with
// textContent / DOM properties (never innerHTML), so nothing from the daemon can become markup.
(function () {
  'use strict';
  var root = document.getElementById('natpmp-page');
  if (!root) { return; }
  var POLL_MS = 1500;
  var page = root.getAttribute('data-page');
  var jsonUrl = new URL(root.getAttribute('data-json'), location.origin).href;
  var postBase = root.getAttribute('data-post');
  var token = root.getAttribute('data-csrf');
  var message = document.getElementById('natpmp-message');
  var last = null;
  var sortKey = null;
  var sortDir = 1;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function say(text, failed) {
    message.textContent = text;
    message.className = 'natpmp-message' + (failed ? ' natpmp-failed' : ' natpmp-ok');
  }

  function post(action, body) {
    return fetch(new URL(postBase + action, location.origin).href, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-Natpmp-Csrf': token },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return { error: 'HTTP ' + r.status }; }).then(function (j) {
        if (!r.ok) { throw new Error(j.error || ('HTTP ' + r.status)); }
        return j;
      });
    });
  }

  function remaining(m) {
    if (m.origin === 'STATIC' && m.remaining === 0) { return 'never'; }
    var s = m.remaining, pad = function (n) { return (n < 10 ? '0' : '') + n; };
    if (s >= 3600) { return Math.floor(s / 3600) + 'h ' + pad(Math.floor(s / 60) % 60) + 'm ' + pad(s % 60) + 's'; }
    if (s >= 60) { return Math.floor(s / 60) + 'm ' + pad(s % 60) + 's'; }
    return s + 's';
  }

  // ISO-8601 from the JSON document → "2026-11-21 14:37:43 UTC", as the server renders it
  function when(iso) {
    return iso ? iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC') : '';
  }

  function setSummary(key, text, state) {
    var v = root.querySelector('.natpmp-value[data-key="' + key + '"]');
    if (!v) { return; }
    v.textContent = text;
    v.className = 'natpmp-value' + (state ? ' natpmp-' + state.toLowerCase() : '');
  }

  // ---------------------------------------------------------------- mappings page
  function ipKey(a) {
    return a.split('.').map(function (p) { return ('00' + p).slice(-3); }).join('.');
  }

  function compare(a, b) {
    var x = a[sortKey], y = b[sortKey];
    if (sortKey === 'client') { x = ipKey(x); y = ipKey(y); }
    return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
  }

  function drawMappings(d) {
    var summary = document.getElementById('natpmp-summary');
    if (!d.available) {
      summary.textContent = '';
      var item = el('div', null, 'natpmp-item');
      item.appendChild(el('span', 'Service', 'natpmp-label'));
      item.appendChild(el('span', 'not running (no NAT-PMP configuration, or it was rejected)', 'natpmp-value natpmp-failed'));
      summary.appendChild(item);
    } else {
      var t = d.totals;
      setSummary('service', d.enabled ? 'enabled' : 'disabled', d.enabled ? 'OK' : 'DEGRADED');
      setSummary('external', d.externalAddress || 'none', d.externalAddress ? 'OK' : 'DEGRADED');
      setSummary('epoch', d.epoch + ' s');
      setSummary('backend', (d.backend || 'none') + (d.health ? ' (' + d.health.state + ')' : ''),
        d.health ? d.health.state : 'FAILED');
      setSummary('totals', t.mappings + ' (' + t.udp + ' UDP, ' + t.tcp + ' TCP, ' + t.static + ' static) for '
        + t.clients + ' client' + (t.clients === 1 ? '' : 's'));
      setSummary('taken', when(d.taken));
      var err = root.querySelector('.natpmp-value[data-key="error"]');
      var lastError = d.health && d.health.lastError;
      if (lastError && !err) {
        var it = el('div', null, 'natpmp-item');
        it.appendChild(el('span', 'Last error', 'natpmp-label'));
        err = el('span', '', 'natpmp-value natpmp-failed');
        err.setAttribute('data-key', 'error');
        it.appendChild(err);
        summary.appendChild(it);
      }
      if (err) { err.textContent = lastError || ''; err.parentNode.style.display = lastError ? '' : 'none'; }
    }
    var rows = (d.mappings || []).slice();
    var filter = document.getElementById('natpmp-filter').value.trim().toLowerCase();
    if (filter) {
      rows = rows.filter(function (m) {
        return [m.client, m.protocol, m.internalPort, m.externalPort, m.origin].join(' ').toLowerCase()
          .indexOf(filter) >= 0;
      });
    }
    if (sortKey) { rows.sort(compare); }
    var tbody = document.querySelector('#natpmp-mappings tbody');
    var fresh = document.createElement('tbody');
    rows.forEach(function (m) {
      var tr = document.createElement('tr');
      [m.client, m.protocol, m.internalPort, m.externalPort, remaining(m), m.origin].forEach(function (v) {
        tr.appendChild(el('td', v));
      });
      var actions = el('td');
      var del = el('button', 'Delete', 'natpmp-delete');
      del.type = 'button';
      del.dataset.client = m.client; del.dataset.protocol = m.protocol; del.dataset.port = m.internalPort;
      var all = el('button', 'Delete all of client', 'natpmp-delete-client');
      all.type = 'button';
      all.dataset.client = m.client;
      actions.appendChild(del); actions.appendChild(all);
      tr.appendChild(actions);
      fresh.appendChild(tr);
    });
    if (rows.length === 0) {
      var empty = el('tr', null, 'natpmp-empty');
      var td = el('td', filter && (d.mappings || []).length ? 'No mapping matches the filter.' : 'No mappings.');
      td.colSpan = 7;
      empty.appendChild(td);
      fresh.appendChild(empty);
    }
    tbody.parentNode.replaceChild(fresh, tbody);
    document.getElementById('natpmp-shown').textContent =
      rows.length + ' of ' + (d.mappings || []).length + ' shown';
  }

  function initMappings() {
    document.getElementById('natpmp-filter').addEventListener('input', function () { if (last) { drawMappings(last); } });
    Array.prototype.forEach.call(document.querySelectorAll('#natpmp-mappings th[data-key]'), function (th) {
      function sort() {
        var key = th.getAttribute('data-key');
        sortDir = sortKey === key ? -sortDir : 1;
        sortKey = key;
        Array.prototype.forEach.call(document.querySelectorAll('#natpmp-mappings th'), function (o) {
          o.classList.remove('natpmp-asc', 'natpmp-desc');
        });
        th.classList.add(sortDir > 0 ? 'natpmp-asc' : 'natpmp-desc');
        if (last) { drawMappings(last); }
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') { sort(); } });
    });
    document.getElementById('natpmp-mappings').addEventListener('click', function (e) {
      var b = e.target;
      if (b.classList.contains('natpmp-delete')) {
        b.disabled = true;
        post('delete', { client: b.dataset.client, protocol: b.dataset.protocol, internalPort: Number(b.dataset.port) })
          .then(function (r) {
            say('Deleted ' + b.dataset.protocol + ' ' + b.dataset.client + ':' + b.dataset.port + ' (' + r.removed + ' removed)');
          }, function (err) { say('Delete failed: ' + err.message, true); })
          .then(refresh);
      } else if (b.classList.contains('natpmp-delete-client')) {
        if (!window.confirm('Delete every mapping of ' + b.dataset.client + '?')) { return; }
        b.disabled = true;
        post('delete-client', { client: b.dataset.client })
          .then(function (r) { say('Deleted ' + r.removed + ' mapping(s) of ' + b.dataset.client); },
            function (err) { say('Delete failed: ' + err.message, true); })
          .then(refresh);
      }
    });
  }

  // ---------------------------------------------------------------- backends page
  function drawBackends(d) {
    setSummary('inUse', d.inUse || (d.service ? 'none' : 'none (NAT-PMP service not running)'));
    setSummary('target', d.target || '(natpmp.backend=*) \u2014 highest service.ranking');
    var tbody = document.querySelector('#natpmp-backends tbody');
    var fresh = document.createElement('tbody');
    d.backends.forEach(function (b) {
      var tr = el('tr', null, b.inUse ? 'natpmp-in-use' : '');
      var name = el('td', b.name);
      if (b.inUse) { name.appendChild(document.createTextNode(' ')); name.appendChild(el('strong', '(in use)')); }
      tr.appendChild(name);
      tr.appendChild(el('td', b.ranking));
      var state = b.health ? b.health.state : 'FAILED';
      tr.appendChild(el('td', state, 'natpmp-' + state.toLowerCase()));
      tr.appendChild(el('td', b.health ? when(b.health.since) : ''));
      tr.appendChild(el('td', b.health ? b.health.repairs : 0));
      tr.appendChild(el('td', b.problem || (b.health && b.health.lastError) || '', 'natpmp-error'));
      tr.appendChild(el('td', b.bundle + ' #' + b.serviceId));
      var actions = el('td');
      if (!b.inUse && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(b.name)) {
        var sel = el('button', 'Use ' + b.name, 'natpmp-select');
        sel.type = 'button';
        sel.dataset.backend = b.name;
        actions.appendChild(sel);
      }
      tr.appendChild(actions);
      fresh.appendChild(tr);
    });
    if (d.backends.length === 0) {
      var empty = el('tr', null, 'natpmp-empty');
      var td = el('td', 'No firewall backend is installed.');
      td.colSpan = 8;
      empty.appendChild(td);
      fresh.appendChild(empty);
    }
    tbody.parentNode.replaceChild(fresh, tbody);
  }

  function initBackends() {
    document.getElementById('natpmp-backends').addEventListener('click', function (e) {
      var b = e.target;
      if (!b.classList.contains('natpmp-select')) { return; }
      b.disabled = true;
      post('select', { backend: b.dataset.backend })
        .then(function (r) { say('Selected ' + b.dataset.backend + ': backend.target=' + r.target); },
          function (err) { say('Switch failed: ' + err.message, true); })
        .then(refresh);
    });
  }


  // ---------------------------------------------------------------- subnet mapping page
  function drawNetmap(d) {
    setSummary('netmap', d.available ? d.pools.length + ' pool' + (d.pools.length === 1 ? '' : 's')
      : 'not installed or not configured (natpmp.netmap)');
    var box = document.getElementById('natpmp-pools');
    var open = {};
    Array.prototype.forEach.call(box.querySelectorAll('details[data-pool]'), function (x) { open[x.dataset.pool] = x.open; });
    var fresh = document.createElement('div');
    fresh.id = 'natpmp-pools';
    (d.pools || []).forEach(function (p) {
      var h = el('h3', 'Pool ' + p.pool + ' ', 'natpmp-pool');
      var flush = el('button', 'Flush', 'natpmp-flush');
      flush.type = 'button';
      flush.dataset.pool = p.pool;
      h.appendChild(flush);
      fresh.appendChild(h);
      var stat = el('p', p.statLine || '', 'natpmp-stat');
      stat.appendChild(el('span', '(used, static, all, mean ttl)', 'natpmp-legend'));
      fresh.appendChild(stat);
      var table = el('table', null, 'nicetable natpmp-table');
      var head = el('thead');
      var hr = el('tr');
      ['Prenat', 'Postnat', 'TTL (s)', 'lasthit', 'Kind', 'Actions'].forEach(function (t) { hr.appendChild(el('th', t)); });
      head.appendChild(hr);
      table.appendChild(head);
      var body = el('tbody');
      p.bindings.forEach(function (b) {
        var tr = el('tr');
        [b.prenat, b.postnat, b.static ? '' : b.ttl, b.lasthit, b.static ? 'static' : b.expired ? 'expired' : 'dynamic']
          .forEach(function (v) { tr.appendChild(el('td', v)); });
        var td = el('td');
        var un = el('button', 'Unbind', 'natpmp-unbind');
        un.type = 'button';
        un.dataset.address = b.prenat;
        td.appendChild(un);
        tr.appendChild(td);
        body.appendChild(tr);
      });
      if (p.bindings.length === 0) {
        var er = el('tr', null, 'natpmp-empty');
        var etd = el('td', 'No bindings.');
        etd.colSpan = 6;
        er.appendChild(etd);
        body.appendChild(er);
      }
      table.appendChild(body);
      fresh.appendChild(table);
      var det = el('details');
      det.dataset.pool = p.pool;
      det.open = !!open[p.pool];
      det.appendChild(el('summary', '/proc view'));
      det.appendChild(el('pre', p.procTable || '', 'natpmp-proc'));
      fresh.appendChild(det);
    });
    box.parentNode.replaceChild(fresh, box);
  }

  function initNetmap() {
    function form(id, action, fields, done) {
      var f = document.getElementById(id);
      f.addEventListener('submit', function (e) {
        e.preventDefault();
        var body = {};
        fields.forEach(function (n) { body[n] = f.elements[n].value.trim(); });
        post(action, body).then(function (r) { say(done(r, body)); }, function (err) { say(action + ' failed: ' + err.message, true); })
          .then(refresh);
      });
    }
    form('natpmp-bind-form', 'bind', ['prenat', 'postnat'], function (r) {
      return 'Bound ' + r.prenat + ' to ' + r.postnat + ' (pool ' + r.pool + ')';
    });
    form('natpmp-unbind-form', 'unbind', ['address'], function (r, b) {
      return r.removed ? 'Unbound ' + b.address : 'No binding of ' + b.address;
    });
    root.addEventListener('click', function (e) {
      var b = e.target;
      if (b.classList.contains('natpmp-unbind')) {
        b.disabled = true;
        post('unbind', { address: b.dataset.address })
          .then(function (r) { say(r.removed ? 'Unbound ' + b.dataset.address : 'No binding of ' + b.dataset.address); },
            function (err) { say('Unbind failed: ' + err.message, true); }).then(refresh);
      } else if (b.classList.contains('natpmp-flush')) {
        if (!window.confirm('Unbind every binding of pool ' + b.dataset.pool + ', static ones too?')) { return; }
        b.disabled = true;
        post('flush', { pool: b.dataset.pool })
          .then(function (r) { say('Flushed ' + b.dataset.pool + ' (' + r.removed + ' removed)'); },
            function (err) { say('Flush failed: ' + err.message, true); }).then(refresh);
      }
    });
  }

  // ---------------------------------------------------------------- polling
  var timer = null;
  function refresh() {
    if (timer) { clearTimeout(timer); timer = null; }
    return fetch(jsonUrl, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (d) {
        last = d;
        if (page === 'natpmp-mappings') { drawMappings(d); } else if (page === 'natpmp-backends') { drawBackends(d); }
        else if (page === 'natpmp-netmap') { drawNetmap(d); }
        root.setAttribute('data-updated', String(Date.now()));
        if (message.className.indexOf('natpmp-stale') >= 0) { say(''); }
      }, function (err) {
        message.textContent = 'Live update failed (' + err.message + '); retrying.';
        message.className = 'natpmp-message natpmp-failed natpmp-stale';
      })
      .then(function () { timer = setTimeout(refresh, POLL_MS); });
  }

  if (page === 'natpmp-mappings') { initMappings(); } else if (page === 'natpmp-backends') { initBackends(); }
  else if (page === 'natpmp-netmap') { initNetmap(); }
  refresh();
}());
