// The two time-series charts (uPlot): finalization lag, and the clock's sources over time.
// Owns: chart construction and data updates; each chart's container carries `data-points`
// (how many points it plots) for tests. Never: fetches data.
import uPlot from 'uplot';

function size(el) {
  return { width: Math.max(280, el.clientWidth - 8), height: 180 };
}

/** A line chart in `el` with a time x-axis and the named series (`label`, `stroke`). */
export function lineChart(el, series, yLabel) {
  let plot = null;
  let names = [];
  return {
    /** Replaces the data: `xs` in seconds, `ys` an object name → values (same length). */
    update(xs, ys) {
      const wanted = Object.keys(ys);
      if (plot === null || wanted.join('\n') !== names.join('\n')) {
        plot?.destroy();
        names = wanted;
        plot = new uPlot(
          {
            ...size(el),
            series: [{}, ...names.map((label, i) => ({ label, stroke: series[i % series.length], width: 1.5 }))],
            axes: [{}, { label: yLabel }],
            legend: { live: false },
          },
          [xs, ...names.map((n) => ys[n])],
          el,
        );
      } else {
        plot.setData([xs, ...names.map((n) => ys[n])]);
      }
      el.dataset.points = String(xs.length);
    },
  };
}

/** Line colours, in order. */
export const COLOURS = ['#12324a', '#c2410c', '#15803d', '#7c3aed', '#b91c1c', '#0e7490', '#a16207', '#be185d'];
