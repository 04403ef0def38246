// The insights page's charts (templates/staff/insights.html): each <canvas data-chart="<name>"> gets a bar chart
// of charts[<name>] from the page's JSON (#insights-data, insights.views._charts: {labels, series: [{label, data}]}).
// Chart.js is loaded before this module as a classic script (window.Chart, from npm). The numbers are also in the
// table under each chart, so the page says everything without this script.

const Chart = window.Chart;
const charts = JSON.parse(document.getElementById("insights-data").textContent);
const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// Okabe and Ito's colours, told apart with the common colour blindnesses; the legend and the tables name each series.
const COLOURS = {
  Web: "#0072b2",
  Phone: "#e69f00",
  "Answered in full": "#009e73",
  "With an unanswered question": "#e69f00",
  "Answered, record purged": "#999999",
  Failed: "#d55e00",
  "Going on": "#56b4e9",
  Calls: "#8a2d1c",
  "Orders placed": "#0072b2",
  "Tables booked": "#009e73",
};

function draw(canvas) {
  const chart = charts[canvas.dataset.chart];
  if (!chart) return;
  const stacked = canvas.dataset.stacked === "true";
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: chart.labels,
      datasets: chart.series.map((series) => ({
        label: series.label,
        data: series.data,
        backgroundColor: COLOURS[series.label] || "#55555b",
        borderWidth: 0,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduceMotion ? false : { duration: 400 },
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { display: chart.series.length > 1, position: "bottom" } },
      scales: {
        x: { stacked, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } },
        y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  });
  canvas.dataset.drawn = "true";
}

if (Chart) {
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#55555b";
  document.querySelectorAll("canvas[data-chart]").forEach(draw);
}
