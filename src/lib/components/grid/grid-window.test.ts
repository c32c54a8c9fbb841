// The grader grid's window arithmetic (ux-anchors row 3: virtualise rows and columns): every cell in view is
// rendered, and the rendered window does not grow with the size of the course.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gridWindow, indexRange } from './grid-window';

const G = { rowH: 40, colW: 112, nameW: 192, overscan: 4, colOverscan: 3 };

describe('gridWindow', () => {
  it('[UX-3] every row and column that is even partly in view is rendered, wherever the grid is scrolled', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 100, max: 1200 }),
        fc.integer({ min: 300, max: 2000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (rows, cols, height, width, fy, fx) => {
          const scrollTop = fy * Math.max(0, rows * G.rowH - height);
          const scrollLeft = fx * Math.max(0, G.nameW + cols * G.colW - width);
          const w = gridWindow(G, { scrollTop, scrollLeft, height, width }, rows, cols);
          for (let r = 0; r < rows; r++) {
            const inView = r * G.rowH < scrollTop + height && (r + 1) * G.rowH > scrollTop;
            if (inView) expect(r >= w.first && r < w.last, `row ${r}`).toBe(true);
          }
          // the name column covers the left nameW pixels of the view: grade columns show to its right
          for (let c = 0; c < cols; c++) {
            const inView = c * G.colW < scrollLeft + width - G.nameW && (c + 1) * G.colW > scrollLeft;
            if (inView) expect(c >= w.firstCol && c < w.lastCol, `column ${c}`).toBe(true);
          }
        },
      ),
    );
  });

  it('[UX-3] the rendered window is bounded by the view and the overscan, not by the course size', () => {
    for (const rows of [50, 2000, 100_000]) {
      const w = gridWindow(G, { scrollTop: 20 * G.rowH + 13, scrollLeft: 7 * G.colW + 5, height: 600, width: 1280 }, rows, 300);
      expect(w.last - w.first).toBeLessThanOrEqual(Math.ceil(600 / G.rowH) + 1 + 2 * G.overscan);
      expect(w.lastCol - w.firstCol).toBeLessThanOrEqual(Math.ceil((1280 - G.nameW) / G.colW) + 1 + 2 * G.colOverscan);
    }
  });

  it('[UX-3] clamps at the edges: nothing before the first row or past the last, even when overscrolled', () => {
    expect(gridWindow(G, { scrollTop: -80, scrollLeft: -50, height: 600, width: 1280 }, 10, 5)).toMatchObject({ first: 0, last: 10, firstCol: 0, lastCol: 5 });
    const end = gridWindow(G, { scrollTop: 10_000 * G.rowH, scrollLeft: 0, height: 600, width: 1280 }, 100, 5);
    expect(end.first).toBeLessThanOrEqual(end.last);
    expect(end.last).toBe(100);
    expect(gridWindow(G, { scrollTop: 0, scrollLeft: 0, height: 600, width: 1280 }, 0, 0)).toMatchObject({ first: 0, last: 0, firstCol: 0, lastCol: 0 });
  });

  it('[UX-3] the window keeps its size while scrolling, so a row leaving it hands its slot to the row entering it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 400 }), (a, b, cols) => {
        const rows = 2000;
        const view = (top: number, left: number) => gridWindow(G, { scrollTop: top * 13, scrollLeft: left * 7, height: 700, width: 1280 }, rows, cols);
        const x = view(a, a);
        const y = view(b, b);
        expect(x.last - x.first).toBe(y.last - y.first);
        expect(x.lastCol - x.firstCol).toBe(y.lastCol - y.firstCol);
        expect(x.last - x.first).toBe(Math.min(rows, x.rowSlots));
        expect(x.lastCol - x.firstCol).toBe(Math.min(cols, x.colSlots));
        // keys (index modulo the slot count) are distinct within a window
        const keys = indexRange(x.first, x.last).map((r) => r % x.rowSlots);
        expect(new Set(keys).size).toBe(keys.length);
      }),
    );
  });
});

describe('indexRange', () => {
  it('lists the integers from the first up to, not including, the last', () => {
    expect(indexRange(3, 7)).toEqual([3, 4, 5, 6]);
    expect(indexRange(5, 5)).toEqual([]);
  });
});
