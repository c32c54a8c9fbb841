// The browser side of the grader benches (regrade.bench.ts, app.bench.ts), run in the page through page.evaluate.
// Plain JavaScript: the Node-side type-check (tsconfig.node.json) has no DOM types. Never imported by the app.

/** Six setup changes made on the grader page (hide/show a column from the selected grade panel: a full rebuild each). */
export const setupChanges = async () => {
  const out = [];
  const clicks = [];
  for (let i = 0; i < 6; i++) {
    const button = [...document.querySelectorAll('button')].find((b) => /^(Hide from students|Show to students)$/.test(b.textContent ?? ''));
    const before = performance.getEntriesByName('markbook:regrade').length;
    const long = [];
    const obs = new PerformanceObserver((l) => l.getEntries().forEach((e) => long.push(e.duration)));
    obs.observe({ type: 'longtask' });
    let longest = 0;
    let last = performance.now();
    let done = false;
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      if (!done) ch.port2.postMessage(0);
    };
    ch.port2.postMessage(0);
    const t0 = performance.now();
    button.click();
    clicks.push(performance.now() - t0);
    let mark;
    while (!(mark = performance.getEntriesByName('markbook:regrade').slice(before).find((m) => m.detail?.kind === 'rebuild')))
      await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const ms = performance.now() - t0;
    done = true;
    obs.disconnect();
    ch.port1.close();
    out.push({ longest, longTasks: long.length, ms, rebuildMs: mark.detail.ms });
    await new Promise((r) => setTimeout(r, 300));
  }
  console.log(`the setup command itself (CRDT transaction on the main thread), ms: ${clicks.map((c) => c.toFixed(0)).join(' ')}`);
  return out;
};

/**
 * 200 grades typed into an editable cell of the first row whose value moves the course total (a lowest grade dropped
 * or a zero weight would not); ms from Enter until the frame that paints the row's new course total. Which total
 * each grade gives is learnt first from the regrade worker; a total drawn and then changed by the worker's patch is
 * counted and printed.
 */
export const keystrokes = async () => {
  const out = [];
  const toPatch = [];
  const toTotal = [];
  let differed = 0;
  let inFirstFrame = 0;
  const grid = document.querySelector('[data-testid="grader-grid"]');
  const firstRow = () => grid.querySelector('tbody tr:not([aria-hidden]) th').parentElement;
  const editable = () => [...firstRow().querySelectorAll('td[role="gridcell"]')].filter((c) => c.getAttribute('aria-readonly') === 'false').map((c) => c.dataset.testid);
  const user = firstRow().querySelector('td[data-testid^="cell-course-"]').dataset.testid.slice('cell-course-'.length);
  // the cell's element may be rebuilt (the active cell's row is keyed apart): always find it again by its test id
  const cellNow = (id) => grid.querySelector(`[data-testid="${id}"]`);
  // the course total as drawn over the row (the pinned column a teacher sees)
  const totalNow = () => document.querySelector(`[data-testid="pinned-course-${user}"]`)?.textContent ?? '';
  const patches = () => performance.getEntriesByName('markbook:regrade').filter((m) => m.detail?.kind === 'patch');
  /** Types `want` into cell `id`; waits for `total` (or, without one, for the worker's patch) and then the worker. */
  const type = async (id, want, total) => {
    const cell = cellNow(id);
    cell.focus();
    cell.dispatchEvent(new KeyboardEvent('keydown', { key: want, bubbles: true }));
    await new Promise((r) => setTimeout(r, 0));
    const input = document.getElementById('grid-editor');
    input.value = want;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    const patchesBefore = patches().length;
    // A key comes at any moment of a frame, not just after one began: press Enter at a random point of the frame
    // (task hops, which timers' clamping would not allow), so that waiting for the next frame is measured fairly.
    const frameStart = await new Promise((r) => requestAnimationFrame((t) => r(t)));
    const at = frameStart + Math.random() * 16.7;
    await new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => (performance.now() >= at ? (ch.port1.close(), resolve()) : ch.port2.postMessage(0));
      ch.port2.postMessage(0);
    });
    const t0 = performance.now();
    let shownAt = 0;
    const shown = new Promise((resolve) => {
      if (total === null) return resolve();
      const check = () => {
        const c = cellNow(id);
        if (c && !c.querySelector('input') && (c.textContent ?? '').startsWith(want) && totalNow() === total) {
          shownAt = performance.now();
          mo.disconnect();
          resolve();
        }
      };
      const mo = new MutationObserver(check);
      const opts = { characterData: true, childList: true, subtree: true };
      mo.observe(grid, opts);
      const pinned = document.querySelector(`[data-testid="pinned-course-${user}"]`)?.parentElement;
      if (pinned && !grid.contains(pinned)) mo.observe(pinned, opts);
      setTimeout(() => {
        mo.disconnect();
        resolve();
      }, 1000);
    });
    let nextFrame = 0;
    requestAnimationFrame(() => (nextFrame = performance.now()));
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await shown;
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    const painted = performance.now() - t0;
    const seen = totalNow();
    // the worker's patch for this grade: the total it brings must be the one already shown
    for (let k = 0; k < 200 && patches().length === patchesBefore; k++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const pm = patches()[patchesBefore];
    return { painted, shown: shownAt ? shownAt - t0 : 1000, firstFrame: shownAt > 0 && (nextFrame === 0 || shownAt < nextFrame), patch: pm ? pm.startTime - t0 : 1000, changed: totalNow() !== seen, total: totalNow() };
  };
  let id = null;
  const totals = {};
  const tried = new Set();
  const scroller = grid.closest('[data-grid-scroller]');
  for (let tries = 0; !id && tries < 40; ) {
    const fresh = editable().filter((c) => !tried.has(c));
    if (!fresh.length) {
      // the columns on screen do not move it: bring in the next ones
      if (scroller.scrollLeft + scroller.clientWidth >= scroller.scrollWidth) break;
      scroller.scrollLeft += scroller.clientWidth / 2;
      for (let k = 0; k < 3; k++) await new Promise((r) => requestAnimationFrame(() => r(null)));
      continue;
    }
    const candidate = fresh[0];
    tried.add(candidate);
    tries++;
    totals['9'] = (await type(candidate, '9', null)).total;
    totals['1'] = (await type(candidate, '1', null)).total;
    if (totals['1'] !== totals['9']) id = candidate;
  }
  if (!id) throw new Error('no editable cell of the first row moves the course total');
  for (let i = 0; i < 200; i++) {
    const want = String(i % 2 ? 1 : 9);
    const r = await type(id, want, totals[want]);
    if (r.changed) differed++;
    if (r.firstFrame) inFirstFrame++;
    toPatch.push(r.patch);
    toTotal.push(r.shown);
    out.push(r.painted);
  }
  toPatch.sort((a, b) => a - b);
  toTotal.sort((a, b) => a - b);
  console.log(`typing into ${id}: Enter -> total in the DOM: p50 ${toTotal[100].toFixed(1)} ms, p95 ${toTotal[190].toFixed(1)} ms; Enter -> the worker's patch: p50 ${toPatch[100].toFixed(1)} ms, p95 ${toPatch[190].toFixed(1)} ms; in the first frame after Enter: ${inFirstFrame} of 200; totals the worker's patch then changed: ${differed} of 200`);
  return out;
};
