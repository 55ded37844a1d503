// Loaded only when a chart is shown (React.lazy): chart.js stays out of the first load.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  Tooltip,
} from "chart.js";
import { useEffect, useRef } from "react";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface Bar {
  label: string;
  value: number;
}

export default function AirtimeChart({ bars, label, format }: { bars: Bar[]; label: string; format: (v: number) => string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current === null) return;
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels: bars.map((b) => (b.label.length > 40 ? `${b.label.slice(0, 39)}…` : b.label)),
        datasets: [{ label, data: bars.map((b) => b.value), backgroundColor: "#2f855a", borderRadius: 3 }],
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { tooltip: { callbacks: { label: (ctx) => format(Number(ctx.raw)) } } },
        scales: { x: { ticks: { callback: (v) => format(Number(v)) } } },
      },
    });
    return () => chart.destroy();
  }, [bars, label, format]);
  // the same figures are in the table under the chart
  return (
    <div style={{ position: "relative", height: `${Math.max(160, bars.length * 26 + 40)}px` }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
