// /costs: draws the spend chart from the page's JSON data block (no inline script: CSP).
(function () {
  "use strict";

  function tone(index) {
    const hues = [212, 152, 32, 280, 0, 190, 90, 330];
    return "hsl(" + hues[index % hues.length] + " 60% 52%)";
  }

  function draw() {
    const data = document.getElementById("cost-chart-data");
    const canvas = document.getElementById("cost-chart");
    if (!data || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    const chart = JSON.parse(data.textContent);
    const text = getComputedStyle(document.body).color;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.days,
        datasets: chart.series.map(function (series, index) {
          return {label: series.label, data: series.values, backgroundColor: tone(index), stack: "spend"};
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: {stacked: true, ticks: {color: text}},
          y: {stacked: true, beginAtZero: true, ticks: {color: text}, title: {display: true, text: "USD", color: text}},
        },
        plugins: {legend: {position: "bottom", labels: {color: text}}},
      },
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
