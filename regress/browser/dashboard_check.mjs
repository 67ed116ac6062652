// Opens the dashboard in Debian's headless Chromium (playwright-core, no
// browser download), reads what it shows, optionally acknowledges an alert by
// clicking its button, and writes a full-page screenshot.
//
//   node dashboard_check.mjs URL SCREENSHOT.png [ALERT_ID]
//
// Basic-auth credentials come from DASHBOARD_USER and DASHBOARD_PASSWORD (never
// argv).  Prints one JSON object: the numbers and their health as shown, the
// queue, panels shown as not set up, whether the alert ended acknowledged on
// the page, and every console error (a Content-Security-Policy violation is
// one).
import { chromium } from 'playwright-core';

const [url, screenshot, alertId] = process.argv.slice(2);
if (!url || !screenshot) {
	console.error('usage: node dashboard_check.mjs URL SCREENSHOT.png [ALERT_ID]');
	process.exit(2);
}

// As the machine's notes say: without the background-networking flags
// Chromium keeps trying hosts this closed network refuses.
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync',
		'--disable-dev-shm-usage'],
});
const result = { console_errors: [], numbers: {}, queue: {}, not_set_up: [], acknowledged: null };
try {
	const context = await browser.newContext({
		viewport: { width: 1440, height: 900 },
		httpCredentials: process.env.DASHBOARD_USER
			? { username: process.env.DASHBOARD_USER, password: process.env.DASHBOARD_PASSWORD || '' }
			: undefined,
	});
	const page = await context.newPage();
	page.on('console', (m) => { if (m.type() === 'error') result.console_errors.push(m.text()); });
	page.on('pageerror', (e) => result.console_errors.push(String(e)));

	const response = await page.goto(url, { waitUntil: 'load', timeout: 60000 });
	result.status = response ? response.status() : null;
	await page.waitForSelector('body[data-loaded="true"]', { timeout: 60000 });
	// the chart draws once its library has run
	await page.waitForSelector('#chart canvas, #chart .empty', { timeout: 60000 });

	if (alertId) {
		const item = `li[data-alert-id="${alertId}"]`;
		await page.click(`${item} button.ack`, { timeout: 30000 });
		await page.waitForSelector(`${item}.acked`, { timeout: 60000 });
		result.acknowledged = true;
	}
	// a second refresh has the throughput rates (they need two answers)
	await page.waitForFunction(() => !document.querySelector('.throughput') ||
		!document.querySelector('.throughput').textContent.startsWith('…'), null, { timeout: 30000 });

	for (const row of await page.$$('tr[data-number]')) {
		const id = await row.getAttribute('data-number');
		result.numbers[id] = {
			health: (await row.$eval('[data-field="health"]', (e) => e.textContent)).trim(),
			mode: (await row.$eval('[data-field="mode"] .badge', (e) => e.textContent)).trim(),
		};
	}
	for (const row of await page.$$('tr[data-queue]')) {
		result.queue[await row.getAttribute('data-queue')] =
			(await row.$eval('[data-field="queued"]', (e) => e.textContent)).trim();
	}
	result.not_set_up = await page.$$eval('section.not-set-up', (s) => s.map((e) => e.getAttribute('data-panel')));
	result.title = await page.title();
	await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
	result.error = String(e && e.message || e);
} finally {
	await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.error ? 1 : 0);
