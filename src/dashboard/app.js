/*
 * antiban dashboard: fetches /api/dashboard (every panel, one JSON object
 * built by antiban.dashboard_json()) every REFRESH_MS and draws it.  Every
 * value reaches the page through textContent, never as HTML.  The only write
 * is POST /api/alerts/ID/ack, with the header the receiver requires against
 * cross-site requests.
 */
(function () {
	'use strict';

	var REFRESH_MS = 5000;
	var KNOWN = ['numbers', 'queue', 'errors', 'alerts', 'budget', 'quality', 'webhooks', 'workers',
		'campaigns', 'costs', 'leads'];
	var PALETTE = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#4d7c0f'];
	var QUALITY_COLOR = { GREEN: '#16a34a', YELLOW: '#eab308', RED: '#dc2626' };

	var previous = null;	/* last answer, for rates (granted tokens per second) */
	var chart = null;
	var chartData = null;	/* what the chart was drawn from, for its marks */
	var timer = null;

	// ---- small DOM helpers ----

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls) e.className = cls;
		if (text !== undefined && text !== null) e.textContent = String(text);
		return e;
	}

	function table(columns, rows, rowAttrs) {
		var t = el('table');
		var head = el('tr');
		columns.forEach(function (c) {
			var th = el('th', c.num ? 'num' : '', c.title);
			head.appendChild(th);
		});
		t.appendChild(el('thead')).appendChild(head);
		var body = t.appendChild(el('tbody'));
		rows.forEach(function (r) {
			var tr = el('tr');
			if (rowAttrs) rowAttrs(tr, r);
			columns.forEach(function (c) {
				var td = el('td', c.num ? 'num' : '');
				if (c.field) td.setAttribute('data-field', c.field);
				var v = c.render ? c.render(r, td) : r[c.field];
				if (v instanceof Node) td.appendChild(v);
				else if (v !== undefined) td.textContent = v === null ? '—' : String(v);
				tr.appendChild(td);
			});
			body.appendChild(tr);
		});
		return t;
	}

	function fmtInt(n) {
		if (n === null || n === undefined) return '—';
		return Number(n).toLocaleString('en-US');
	}

	function fmtAge(seconds) {
		if (seconds === null || seconds === undefined) return '—';
		var s = Number(seconds);
		if (s < 90) return s.toFixed(s < 10 ? 1 : 0) + ' s';
		if (s < 5400) return Math.round(s / 60) + ' min';
		if (s < 172800) return (s / 3600).toFixed(1) + ' h';
		return (s / 86400).toFixed(1) + ' d';
	}

	function fmtTime(ts) {
		if (!ts) return '—';
		var d = new Date(ts);
		if (isNaN(d)) return ts;
		var today = new Date();
		var hm = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
		return d.toDateString() === today.toDateString() ? hm : d.toISOString().slice(0, 10) + ' ' + hm;
	}

	function badge(text, kind) {
		return el('span', 'badge ' + (kind || String(text).toLowerCase()), text);
	}

	function bar(fraction, cls) {
		var outer = el('span', 'bar ' + (cls || ''));
		var inner = outer.appendChild(el('span'));
		var f = Math.max(0, Math.min(1, Number(fraction) || 0));
		inner.style.width = (f * 100).toFixed(1) + '%';
		return outer;
	}

	function healthClass(h) {
		return h >= 70 ? 'good' : h > 30 ? 'warn' : 'bad';
	}

	function empty(text) {
		return el('p', 'empty', text);
	}

	// ---- panels ----

	/* msg/s per number from the change in granted tokens since the last answer */
	function rates(data) {
		var out = {};
		if (!previous || !previous.panels || !Array.isArray(previous.panels.numbers)) return out;
		var dt = (new Date(data.generated_at) - new Date(previous.generated_at)) / 1000;
		if (!(dt > 0)) return out;
		var before = {};
		previous.panels.numbers.forEach(function (n) { before[n.phone_number_id] = n.granted; });
		data.panels.numbers.forEach(function (n) {
			var g0 = before[n.phone_number_id];
			if (g0 !== undefined && n.granted >= g0) out[n.phone_number_id] = (n.granted - g0) / dt;
		});
		return out;
	}

	function drawNumbers(body, rows, data) {
		if (!rows.length) return body.appendChild(empty('No numbers registered (antiban.numbers).'));
		var r = rates(data);
		body.appendChild(table([
			{ title: 'Number', render: function (n) {
				var d = el('div');
				d.appendChild(el('div', 'mono', n.phone_number_id));
				d.appendChild(el('div', 'sub', (n.display_phone_number || 'no display number') + ' · WABA ' + n.waba_id));
				return d;
			} },
			{ title: 'Health', field: 'health', num: true, render: function (n, td) {
				td.className = 'num health ' + healthClass(n.health);
				return String(n.health);
			} },
			{ title: '', render: function (n) { return bar(n.health / 100, healthClass(n.health)); } },
			{ title: 'Mode', field: 'mode', render: function (n) {
				var d = el('div');
				d.appendChild(badge(n.mode));
				if (n.mode_forced) d.appendChild(el('span', 'sub', ' forced'));
				if (n.hard_block) d.appendChild(el('span', 'sub', ' needs a person'));
				return d;
			} },
			{ title: 'Quality', field: 'quality_rating', render: function (n) {
				var d = el('div', 'nowrap');
				if (QUALITY_COLOR[n.previous_quality] && n.previous_quality !== n.quality_rating) {
					d.appendChild(badge(n.previous_quality, 'q-' + n.previous_quality.toLowerCase() + ' faded'));
					d.appendChild(el('span', 'arrow', '→'));
				}
				d.appendChild(badge(n.quality_rating, 'q-' + String(n.quality_rating).toLowerCase()));
				return d;
			} },
			{ title: 'Status', field: 'status', render: function (n) {
				var d = el('div');
				d.appendChild(el('div', '', n.status));
				if (n.can_send_message !== 'AVAILABLE') d.appendChild(el('div', 'sub bad-text', n.can_send_message));
				return d;
			} },
			{ title: 'Throughput in use', render: function (n) {
				var d = el('div', 'throughput');
				var now = r[n.phone_number_id];
				var limit = n.mode === 'paused' ? 0 : Number(n.rate_limit);
				d.appendChild(el('div', '', (now === undefined ? '…' : now.toFixed(1)) + ' / ' +
					(n.mode === 'paused' ? '0 msg/s (paused)' : limit.toLocaleString('en-US') + ' msg/s')));
				d.appendChild(bar(now === undefined || !limit ? 0 : now / limit, 'rate'));
				d.appendChild(el('div', 'sub', n.throughput_level + (Number(n.rate_factor) < 1 ? ' × ' + n.rate_factor : '') +
					' · bucket ' + Math.round(Number(n.bucket_fill) * 100) + '% full · ' + fmtInt(n.denied) + ' denied'));
				return d;
			} },
			{ title: 'Last change', render: function (n) {
				return el('div', 'reason', n.change_reason || 'since ' + fmtTime(n.mode_since));
			} }
		], rows, function (tr, n) { tr.setAttribute('data-number', n.phone_number_id); }));
	}

	function drawQueue(body, rows) {
		if (!rows.length) return body.appendChild(empty('Nothing waiting or in flight.'));
		body.appendChild(table([
			{ title: 'Number', field: 'phone_number_id' },
			{ title: 'Queued', field: 'queued', num: true },
			{ title: 'Retry', field: 'retry_wait', num: true },
			{ title: 'Sending', field: 'sending', num: true },
			{ title: 'Unknown', field: 'unknown', num: true },
			{ title: 'Oldest', num: true, field: 'oldest_age_seconds', render: function (q) { return fmtAge(q.oldest_age_seconds); } },
			{ title: 'Next due', render: function (q) { return fmtTime(q.next_due); } }
		], rows, function (tr, q) { tr.setAttribute('data-queue', q.phone_number_id); }));
	}

	function drawErrors(body, rows) {
		if (!rows.length) return body.appendChild(empty('No Cloud API errors in the last 24 h.'));
		body.appendChild(table([
			{ title: 'Code', field: 'code', render: function (e) { return el('span', 'mono', e.code); } },
			{ title: 'Meaning', render: function (e) {
				var d = el('div');
				d.appendChild(el('div', '', e.meaning || ''));
				d.appendChild(el('div', 'sub', 'antiban: ' + (e.action || '?')));
				return d;
			} },
			{ title: '1 h', field: 'last_hour', num: true },
			{ title: '24 h', field: 'last_24h', num: true },
			{ title: 'Numbers', field: 'numbers', num: true },
			{ title: 'Last', render: function (e) { return fmtTime(e.last_at); } }
		], rows, function (tr, e) { tr.setAttribute('data-code', e.code); }));
	}

	function acknowledge(id, button) {
		button.disabled = true;
		button.textContent = '…';
		fetch('api/alerts/' + encodeURIComponent(id) + '/ack', {
			method: 'POST', credentials: 'same-origin', cache: 'no-store',
			headers: { 'X-Requested-With': 'antiban-dashboard' }
		}).then(function (res) {
			return res.json().then(function (j) { return { ok: res.ok, body: j }; });
		}).then(function (r) {
			if (!r.ok) {
				button.textContent = 'failed';
				button.title = r.body.error || '';
			}
			refresh();
		}).catch(function () { button.textContent = 'failed'; });
	}

	function drawAlerts(body, rows) {
		if (!rows.length) return body.appendChild(empty('No open alerts. Nothing acknowledged in the last 24 h.'));
		var list = el('ul', 'alerts');
		rows.forEach(function (a) {
			var li = el('li', 'alert ' + a.severity + (a.acknowledged_at ? ' acked' : ''));
			li.setAttribute('data-alert-id', a.id);
			var head = li.appendChild(el('div', 'alert-head'));
			head.appendChild(badge(a.severity));
			head.appendChild(el('span', 'kind', a.kind));
			if (a.phone_number_id) head.appendChild(el('span', 'mono sub', a.phone_number_id));
			if (a.subject) head.appendChild(el('span', 'sub', a.subject));
			head.appendChild(el('span', 'when', fmtTime(a.created_at)));
			li.appendChild(el('div', 'detail', a.detail));
			if (a.acknowledged_at) {
				li.appendChild(el('div', 'sub acked-by', 'acknowledged ' + fmtTime(a.acknowledged_at) + ' by ' + a.acknowledged_by));
			} else {
				var b = el('button', 'ack', 'Acknowledge');
				b.type = 'button';
				b.addEventListener('click', function () { acknowledge(a.id, b); });
				li.appendChild(b);
			}
			list.appendChild(li);
		});
		body.appendChild(list);
	}

	function drawBudget(body, rows) {
		if (!rows.length) return body.appendChild(empty('No portfolios.'));
		rows.forEach(function (p) {
			var box = body.appendChild(el('div', 'budget'));
			box.setAttribute('data-portfolio', p.business_id);
			var head = box.appendChild(el('div', 'budget-head'));
			head.appendChild(el('strong', '', p.name || p.business_id));
			head.appendChild(el('span', 'sub', ' ' + p.business_id + ' · ' + p.tier));
			var unlimited = Number(p.messaging_limit) < 0;
			var pct = unlimited ? 0 : Number(p.used_pct || 0);
			box.appendChild(bar(pct / 100, pct >= 90 ? 'bad' : pct >= 80 ? 'warn' : 'good'));
			box.appendChild(el('div', 'sub', fmtInt(p.used) + ' of ' + (unlimited ? 'unlimited' : fmtInt(p.messaging_limit)) +
				' used' + (unlimited ? '' : ' (' + pct + '%) · ' + fmtInt(p.remaining) + ' left') +
				(p.room_at ? ' · room again at ' + fmtTime(p.room_at) : '')));
		});
	}

	function kv(body, pairs) {
		var dl = body.appendChild(el('dl', 'kv'));
		pairs.forEach(function (p) {
			dl.appendChild(el('dt', '', p[0]));
			var dd = dl.appendChild(el('dd', p[2] || '', p[1]));
			if (p[3]) dd.setAttribute('data-field', p[3]);
		});
	}

	function drawWebhooks(body, rows) {
		var w = rows[0] || {};
		kv(body, [
			['received, last 5 min', fmtInt(w.last_5min) + '  (' + (w.per_second || 0) + '/s)', '', 'last_5min'],
			['refused (bad signature)', fmtInt(w.rejected_5min), w.rejected_5min > 0 ? 'warn-text' : ''],
			['partly applied / malformed', fmtInt(w.partial_5min) + ' / ' + fmtInt(w.malformed_5min)],
			['waiting to be applied', fmtInt(w.pending), w.pending > 0 ? 'warn-text' : '', 'pending'],
			['apply lag', fmtAge(w.apply_lag_seconds), Number(w.apply_lag_seconds) > 60 ? 'bad-text' : ''],
			['last received', fmtTime(w.last_received_at)]
		]);
	}

	function drawWorkers(body, rows) {
		var columns = [
			{ title: 'Worker', field: 'worker' },
			{ title: 'Keeping up', render: function (w) {
				var d = el('div');
				var v = w.value === null ? 'never' : w.worker === 'antiban journal writer' ? fmtInt(w.value) : fmtAge(w.value);
				d.appendChild(el('div', '', w.evidence + ': ' + v));
				d.appendChild(el('div', 'sub', w.detail));
				return d;
			} }
		];
		/* process counts only reach roles that may read pg_stat_activity */
		if (rows.some(function (w) { return w.running !== null; }))
			columns.splice(1, 0, { title: 'Running', field: 'running', num: true });
		body.appendChild(table(columns, rows, function (tr, w) { tr.setAttribute('data-worker', w.worker); }));
	}

	/* A panel this page has no drawing for (campaigns, costs, leads when their
	 * views appear, or any antiban.dashboard_* view): its rows as a table. */
	function drawGeneric(body, rows) {
		if (!rows.length) return body.appendChild(empty('No rows.'));
		var cols = Object.keys(rows[0]).map(function (k) {
			return { title: k.replace(/_/g, ' '), field: k, num: typeof rows[0][k] === 'number', render: function (r) {
				var v = r[k];
				return v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
			} };
		});
		body.appendChild(table(cols, rows.slice(0, 200)));
	}

	var DRAW = {
		numbers: drawNumbers, queue: drawQueue, errors: drawErrors, alerts: drawAlerts, budget: drawBudget,
		webhooks: drawWebhooks, workers: drawWorkers
	};

	function sectionFor(name) {
		var s = document.querySelector('section[data-panel="' + name + '"]');
		if (s) return s;
		s = el('section', 'panel');
		s.setAttribute('data-panel', name);
		s.appendChild(el('h2', '', name.replace(/_/g, ' ')));
		s.appendChild(el('div', 'body'));
		document.getElementById('extra-panels').appendChild(s);
		return s;
	}

	function drawPanel(name, rows, data) {
		var section = sectionFor(name);
		var body = section.querySelector('.body');
		section.classList.toggle('not-set-up', rows === null);
		if (name === 'quality') return drawChart(rows, data);
		body.textContent = '';
		if (rows === null) {
			body.appendChild(empty('Not set up: the view antiban.dashboard_' + name + ' does not exist yet. ' +
				'It appears here as soon as it does.'));
			return;
		}
		if (!Array.isArray(rows)) {
			body.appendChild(empty(rows.error || 'Cannot read this panel.'));
			return;
		}
		(DRAW[name] || drawGeneric)(body, rows, data);
	}

	// ---- summary tiles ----

	function tile(label, value, cls, hint) {
		var t = el('div', 'tile ' + (cls || ''));
		t.appendChild(el('div', 'value', value));
		t.appendChild(el('div', 'label', label));
		if (hint) t.appendChild(el('div', 'hint', hint));
		return t;
	}

	function drawTiles(p) {
		var box = document.getElementById('tiles');
		box.textContent = '';
		var numbers = Array.isArray(p.numbers) ? p.numbers : [];
		var paused = numbers.filter(function (n) { return n.mode === 'paused'; }).length;
		var slowed = numbers.filter(function (n) { return n.mode === 'throttled' || n.mode === 'recovering'; }).length;
		var hint = [];
		if (paused) hint.push(paused + ' paused');
		if (slowed) hint.push(slowed + ' slowed down');
		box.appendChild(tile('numbers', String(numbers.length), paused ? 'bad' : slowed ? 'warn' : 'good',
			hint.length ? hint.join(', ') : 'all sending at full rate'));
		var queue = Array.isArray(p.queue) ? p.queue : [];
		var waiting = queue.reduce(function (s, q) { return s + q.queued + q.retry_wait; }, 0);
		var oldest = queue.reduce(function (m, q) { return Math.max(m, Number(q.oldest_age_seconds) || 0); }, 0);
		box.appendChild(tile('waiting', fmtInt(waiting), oldest > 600 ? 'warn' : '', 'oldest ' + fmtAge(oldest)));
		var alerts = Array.isArray(p.alerts) ? p.alerts : [];
		var open = alerts.filter(function (a) { return !a.acknowledged_at; });
		var critical = open.filter(function (a) { return a.severity === 'critical'; }).length;
		box.appendChild(tile('open alerts', String(open.length), critical ? 'bad' : open.length ? 'warn' : 'good',
			critical ? critical + ' critical' : ''));
		var budget = Array.isArray(p.budget) ? p.budget : [];
		var top = budget.reduce(function (m, b) { return Math.max(m, Number(b.used_pct) || 0); }, 0);
		box.appendChild(tile('limit used', top + '%', top >= 90 ? 'bad' : top >= 80 ? 'warn' : '', 'busiest portfolio, 24 h'));
		var w = Array.isArray(p.webhooks) && p.webhooks[0] ? p.webhooks[0] : {};
		box.appendChild(tile('webhooks/s', String(w.per_second || 0), Number(w.apply_lag_seconds) > 60 ? 'warn' : '',
			'apply lag ' + fmtAge(w.apply_lag_seconds || 0)));
		var errors = Array.isArray(p.errors) ? p.errors : [];
		var lastHour = errors.reduce(function (s, e) { return s + e.last_hour; }, 0);
		box.appendChild(tile('errors, 1 h', fmtInt(lastHour), lastHour ? 'warn' : 'good', errors.length + ' codes in 24 h'));
	}

	// ---- the chart ----

	/* Health per number as steps over the last 24 h: from the health before
	 * the first change (or today's health when none), through each change,
	 * to now. */
	function chartSeries(rows, numbers, nowS) {
		/* the last 24 h, or since the first thing known of a number (it was
		 * registered, or its health or quality was recorded) */
		var born = {};
		var first = nowS;
		numbers.forEach(function (n) { born[n.phone_number_id] = new Date(n.created_at).getTime() / 1000; });
		rows.forEach(function (r) {
			var t = new Date(r.at).getTime() / 1000;
			if (born[r.phone_number_id] !== undefined) born[r.phone_number_id] = Math.min(born[r.phone_number_id], t);
		});
		Object.keys(born).forEach(function (id) { first = Math.min(first, born[id]); });
		var start = Math.max(nowS - 86400, Math.min(first, nowS - 60));
		var ids = numbers.map(function (n) { return n.phone_number_id; });
		var times = [start, nowS];
		var events = {};
		ids.forEach(function (id) { events[id] = []; });
		var marks = [];
		rows.forEach(function (r) {
			var t = new Date(r.at).getTime() / 1000;
			if (!events[r.phone_number_id]) return;
			if (r.source === 'health') {
				events[r.phone_number_id].push({ t: t, before: r.health_before, after: r.health });
				times.push(t);
			} else if (r.quality_rating) {
				marks.push({ t: t, id: r.phone_number_id, rating: r.quality_rating });
			}
		});
		times.push(first);
		times = Array.from(new Set(times)).filter(function (t) { return t >= start; })
			.sort(function (a, b) { return a - b; });
		var data = [times];
		numbers.forEach(function (n) {
			var ev = events[n.phone_number_id];
			var value = ev.length ? ev[0].before : n.health;
			var i = 0;
			data.push(times.map(function (t) {
				while (i < ev.length && ev[i].t <= t) value = ev[i++].after;
				/* nothing before the number existed */
				return t < born[n.phone_number_id] - 1 ? null : value;
			}));
		});
		/* keep a mark where a number's rating changes (and its first one) */
		var last = {};
		marks = marks.filter(function (m) {
			var keep = last[m.id] !== m.rating;
			last[m.id] = m.rating;
			return keep;
		});
		return { data: data, ids: ids, marks: marks };
	}

	function drawMarks(u) {
		if (!chartData || !chartData.marks.length) return;
		var ctx = u.ctx;
		var bottom = u.bbox.top + u.bbox.height;
		var dpr = window.devicePixelRatio || 1;
		ctx.save();
		chartData.marks.forEach(function (m) {
			var x = Math.round(u.valToPos(m.t, 'x', true));
			var row = chartData.ids.indexOf(m.id);
			var y = bottom - (7 + 10 * row) * dpr;
			ctx.fillStyle = QUALITY_COLOR[m.rating] || '#94a3b8';
			ctx.strokeStyle = PALETTE[row % PALETTE.length];
			ctx.lineWidth = 1.5 * dpr;
			ctx.beginPath();
			ctx.arc(x, y, 4 * dpr, 0, 2 * Math.PI);
			ctx.fill();
			ctx.stroke();
		});
		ctx.restore();
	}

	function chartWidth() {
		var c = document.getElementById('chart');
		return Math.max(320, c.clientWidth || 900);
	}

	function drawChart(rows, data) {
		var holder = document.getElementById('chart');
		var numbers = Array.isArray(data.panels.numbers) ? data.panels.numbers : [];
		if (!Array.isArray(rows) || !numbers.length || typeof uPlot === 'undefined') {
			holder.textContent = '';
			if (chart) { chart.destroy(); chart = null; }
			holder.appendChild(empty(numbers.length ? 'The chart library did not load.' : 'No numbers to chart.'));
			return;
		}
		var nowS = new Date(data.generated_at).getTime() / 1000;
		var next = chartSeries(rows, numbers, nowS);
		var sameShape = chart && chartData && chartData.ids.join() === next.ids.join();
		chartData = next;
		if (sameShape) {
			chart.setData(next.data);
			return;
		}
		if (chart) chart.destroy();
		holder.textContent = '';
		var series = [{}].concat(numbers.map(function (n, i) {
			return {
				label: n.phone_number_id, stroke: PALETTE[i % PALETTE.length], width: 2,
				paths: uPlot.paths.stepped({ align: 1 }), points: { show: false },
				value: function (u, v) { return v === null ? '—' : String(v); }
			};
		}));
		chart = new uPlot({
			width: chartWidth(), height: 260, series: series,
			scales: { y: { range: [0, 100] } },
			axes: [{ stroke: '#475569', grid: { stroke: '#e2e8f0' } },
				{ stroke: '#475569', grid: { stroke: '#e2e8f0' }, label: 'health' }],
			legend: { live: true },
			hooks: { draw: [drawMarks] }
		}, next.data, holder);
		var legend = document.getElementById('chart-legend');
		legend.textContent = '';
		['GREEN', 'YELLOW', 'RED'].forEach(function (q) {
			var s = legend.appendChild(el('span', 'mark'));
			s.appendChild(el('span', 'dot q-' + q.toLowerCase()));
			s.appendChild(document.createTextNode(q.toLowerCase()));
		});
		legend.appendChild(el('span', 'sub', 'circles along the bottom: a quality rating reported by Meta, when it changes (ringed in the number\'s colour)'));
	}

	// ---- refresh loop ----

	function setStatus(ok, text) {
		document.getElementById('status-dot').className = 'dot ' + (ok ? 'ok' : 'down');
		document.getElementById('status-text').textContent = text;
	}

	function render(data) {
		var p = data.panels || {};
		drawTiles(p);
		var names = KNOWN.concat(Object.keys(p).filter(function (k) { return KNOWN.indexOf(k) < 0; }));
		names.forEach(function (name) {
			drawPanel(name, p[name] === undefined ? null : p[name], data);
		});
		previous = data;
		setStatus(true, 'updated ' + fmtTime(data.generated_at));
		document.body.setAttribute('data-loaded', 'true');
	}

	function refresh() {
		clearTimeout(timer);
		fetch('api/dashboard', { credentials: 'same-origin', cache: 'no-store' })
			.then(function (res) {
				if (!res.ok) throw new Error('HTTP ' + res.status);
				return res.json();
			})
			.then(render)
			.catch(function (e) { setStatus(false, 'cannot refresh: ' + e.message); })
			.then(function () { timer = setTimeout(refresh, REFRESH_MS); });
	}

	window.addEventListener('resize', function () {
		if (chart) chart.setSize({ width: chartWidth(), height: 260 });
	});
	refresh();
})();
