// Loaded only when a chart is shown (React.lazy): chart.js stays out of the first load.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from "chart.js";
import { useEffect, useRef } from "react";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface Bar {
  label: string;
  value: number;
}

interface Props {
  bars: Bar[]; // values in seconds
  label: string;
  format: (seconds: number) => string;
  units: { minutes: string; hours: string };
}

export default function AirtimeChart({ bars, label, format, units }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current === null) return;
    // the axis counts whole minutes or hours; the tooltip gives the exact h:mm:ss
    const max = Math.max(0, ...bars.map((b) => b.value));
    const [unit, unitLabel] = max >= 3 * 3600 ? [3600, units.hours] : [60, units.minutes];
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels: bars.map((b) => (b.label.length > 40 ? `${b.label.slice(0, 39)}…` : b.label)),
        datasets: [{ label, data: bars.map((b) => b.value / unit), backgroundColor: "#2f855a", borderRadius: 3 }],
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { tooltip: { callbacks: { label: (ctx) => format(Number(ctx.raw) * unit) } } },
        scales: { x: { title: { display: true, text: unitLabel }, beginAtZero: true } },
      },
    });
    return () => chart.destroy();
  }, [bars, label, format, units]);
  // the same figures are in the table under the chart
  return (
    <div style={{ position: "relative", height: `${Math.max(160, bars.length * 26 + 40)}px` }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
