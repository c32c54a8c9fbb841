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

/** 200 grades typed into the first editable cell of the first row; ms from Enter until the regraded cell is painted. */
export const keystrokes = async () => {
  const out = [];
  const toPatch = [];
  const toDom = [];
  const grid = document.querySelector('[data-testid="grader-grid"]');
  const firstRow = grid.querySelector('tbody tr:not([aria-hidden]) th').parentElement;
  const cells = [...firstRow.querySelectorAll('td[role="gridcell"]')];
  const id = cells.find((c) => c.getAttribute('aria-readonly') === 'false').dataset.testid;
  const cellNow = () => grid.querySelector(`[data-testid="${id}"]`);
  for (let i = 0; i < 200; i++) {
    // the cell's element may be rebuilt (the active cell's row is keyed apart): find it again by its test id
    const editable = cellNow();
    editable.focus();
    editable.dispatchEvent(new KeyboardEvent('keydown', { key: String(i % 10), bubbles: true }));
    await new Promise((r) => setTimeout(r, 0));
    const input = document.getElementById('grid-editor');
    const want = String(i % 2 ? 9 : 1);
    input.value = want;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    const t0 = performance.now();
    const changed = new Promise((resolve) => {
      const mo = new MutationObserver(() => {
        // the cell's new final comes from the worker's patch, with the course total in the same flush
        const cell = cellNow();
        if (cell && !cell.querySelector('input') && (cell.textContent ?? '').startsWith(want)) {
          mo.disconnect();
          resolve();
        }
      });
      mo.observe(grid.querySelector('tbody'), { characterData: true, childList: true, subtree: true });
      setTimeout(() => {
        mo.disconnect();
        resolve();
      }, 1000);
    });
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await changed;
    const domAt = performance.now();
    const pm = performance.getEntriesByName('markbook:regrade').at(-1);
    toPatch.push(pm.startTime - t0);
    toDom.push(domAt - pm.startTime);
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    out.push(performance.now() - t0);
  }
  toPatch.sort((a, b) => a - b);
  toDom.sort((a, b) => a - b);
  console.log(`Enter -> patch received: p50 ${toPatch[100].toFixed(1)} ms, p95 ${toPatch[190].toFixed(1)} ms; patch -> cell and total in the DOM: p50 ${toDom[100].toFixed(1)} ms, p95 ${toDom[190].toFixed(1)} ms`);
  return out;
};
