// routelens serve: draws the charts of a page and makes its filter forms submit on change.
// Each chart is <div class="chart" data-kind="K" data-source="ID"> with its data in
// <script type="application/json" id="ID">; the server escapes that JSON, and every text
// drawn comes from it as plain data (ECharts draws on a canvas, the tooltip text is escaped
// below), so nothing a user wrote can run as code. No inline script: the CSP forbids it.
"use strict";

(function () {
  const GREEN = "#2e8540";
  const RED = "#c62828";
  const GREY = "#9e9e9e";
  const BLUE = "#1565c0";
  const AMBER = "#ef8f00";

  function escapeText(value) {
    return String(value)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  function percent(value, digits) {
    return value === null || value === undefined ? "–" : (value * 100).toFixed(digits === undefined ? 1 : digits) + "%";
  }

  // An axis tick as a percentage with no more digits than it needs: 80%, 1.2%, 0.25%.
  function axisPercent(value) {
    return parseFloat((value * 100).toFixed(2)) + "%";
  }

  // Red (0) → amber (0.5) → green (1) for an accuracy; grey when unknown.
  function accuracyColour(value) {
    if (value === null || value === undefined) return GREY;
    const clamp = Math.max(0, Math.min(1, value));
    const hue = clamp * 120;
    return "hsl(" + hue.toFixed(0) + ", 62%, 42%)";
  }

  function dashedLine(value, label, colour) {
    return {
      silent: true,
      symbol: "none",
      lineStyle: { type: "dashed", color: colour || RED },
      label: { formatter: label, position: "insideEndTop" },
      data: [{ yAxis: value }],
    };
  }

  const percentAxis = { type: "value", min: 0, max: 1, axisLabel: { formatter: axisPercent } };

  function baseTooltip(format) {
    return { trigger: "axis", formatter: format, confine: true };
  }

  function axisTooltip(valueFormat) {
    return baseTooltip(function (items) {
      const rows = items.map(function (item) {
        return escapeText(item.seriesName) + ": " + escapeText(valueFormat(item.value));
      });
      return escapeText(items[0].axisValueLabel) + "<br>" + rows.join("<br>");
    });
  }

  const builders = {
    accuracy: function (data) {
      return {
        tooltip: axisTooltip((v) => percent(v)),
        grid: { left: 50, right: 20, top: 30, bottom: 40 },
        xAxis: { type: "category", data: data.days.map((d) => d.day) },
        yAxis: percentAxis,
        series: [{
          name: "accuracy",
          type: "line",
          data: data.days.map((d) => d.accuracy),
          connectNulls: true,
          itemStyle: { color: BLUE },
          markLine: dashedLine(data.slo, "SLO " + percent(data.slo, 0)),
        }],
      };
    },
    "error-rate": function (data) {
      return {
        tooltip: axisTooltip((v) => percent(v, 2)),
        grid: { left: 50, right: 20, top: 30, bottom: 40 },
        xAxis: { type: "category", data: data.days.map((d) => d.day) },
        yAxis: { type: "value", min: 0, axisLabel: { formatter: axisPercent } },
        series: [{
          name: "error rate",
          type: "bar",
          data: data.days.map((d) => d.error_rate),
          itemStyle: { color: AMBER },
          markLine: dashedLine(data.limit, "max " + percent(data.limit, 0)),
        }],
      };
    },
    cost: function (data) {
      return {
        tooltip: axisTooltip((v) => "$" + Number(v).toFixed(4)),
        grid: { left: 60, right: 20, top: 30, bottom: 40 },
        xAxis: { type: "category", data: data.days.map((d) => d.day) },
        yAxis: { type: "value", axisLabel: { formatter: (v) => "$" + v } },
        series: [{
          name: "spend",
          type: "bar",
          data: data.days.map((d) => ({ value: d.cost_usd, itemStyle: { color: d.anomaly ? RED : BLUE } })),
          markLine: dashedLine(data.budget, "budget $" + data.budget),
        }],
      };
    },
    releases: function (data) {
      return {
        tooltip: axisTooltip((v) => percent(v)),
        grid: { left: 50, right: 20, top: 30, bottom: 60 },
        xAxis: { type: "category", data: data.groups.map((g) => g.value), axisLabel: { rotate: 20 } },
        yAxis: percentAxis,
        series: [{
          name: "accuracy",
          type: "bar",
          data: data.groups.map((g) => ({ value: g.accuracy, itemStyle: { color: accuracyColour(g.accuracy) } })),
          markLine: dashedLine(data.slo, "SLO"),
        }],
      };
    },
    strip: function (data) {
      const colours = { pass: GREEN, fail: RED, error: GREY };
      return {
        tooltip: {
          trigger: "item",
          confine: true,
          formatter: function (item) {
            const a = data.attempts[item.dataIndex];
            return escapeText("#" + a.attempt_id + " " + a.started_at.slice(0, 16).replace("T", " ")) +
              "<br>" + escapeText(a.verdict + " → " + a.route) + "<br>" + escapeText("run " + a.run_id);
          },
        },
        grid: { left: 10, right: 10, top: 10, bottom: 10 },
        xAxis: { type: "category", show: false, data: data.attempts.map((a) => a.attempt_id) },
        yAxis: { type: "value", show: false, max: 1 },
        series: [{
          name: "attempts",
          type: "bar",
          barCategoryGap: "15%",
          data: data.attempts.map((a) => ({ value: 1, itemStyle: { color: colours[a.verdict] || GREY } })),
        }],
      };
    },
    heatmap: function (data) {
      const cells = [];
      let most = 0;
      data.matrix.forEach(function (row, y) {
        row.forEach(function (count, x) {
          if (count > 0) {
            cells.push([x, y, count]);
            most = Math.max(most, count);
          }
        });
      });
      return {
        tooltip: {
          confine: true,
          formatter: function (item) {
            const [x, y, count] = item.value;
            return escapeText("expected " + data.labels[y]) + "<br>" + escapeText("actual " + data.labels[x]) +
              "<br>" + escapeText(count + " attempts");
          },
        },
        grid: { left: 10, right: 20, top: 20, bottom: 20, containLabel: true },
        xAxis: { type: "category", data: data.labels, axisLabel: { rotate: 40, interval: 0 }, splitArea: { show: true } },
        yAxis: { type: "category", data: data.labels, inverse: true, axisLabel: { interval: 0 }, splitArea: { show: true } },
        visualMap: { min: 0, max: Math.max(most, 1), calculable: true, orient: "horizontal", left: "center", bottom: 0, show: false,
          inRange: { color: ["#e3f2fd", "#1565c0"] } },
        series: [{ name: "attempts", type: "heatmap", data: cells, label: { show: data.labels.length <= 20 } }],
      };
    },
    treemap: function (data) {
      const covered = data.skills.filter((s) => s.cases > 0).map((s) => s.cases);
      const smallest = covered.length ? Math.min.apply(null, covered) : 1;
      const nodes = data.skills.map(function (skill) {
        if (skill.uncovered) {
          return {
            name: skill.skill + " (no cases)",
            value: Math.max(1, smallest * 0.6),
            uncovered: true,
            itemStyle: { color: "#eeeeee", borderColor: RED, borderWidth: 3, decal: { symbol: "rect", dashArrayX: [1, 0], dashArrayY: [2, 5], rotation: -0.7, color: "#bdbdbd" } },
            label: { color: RED },
          };
        }
        return {
          name: skill.skill,
          value: skill.cases,
          accuracy: skill.accuracy,
          // a skill's header strip is drawn in its border colour, under its name
          itemStyle: { color: accuracyColour(skill.accuracy), borderColor: "#37474f" },
          children: skill.categories.map((cell) => ({
            name: cell.category,
            value: cell.cases,
            accuracy: cell.accuracy,
            itemStyle: { color: accuracyColour(cell.accuracy) },
          })),
        };
      });
      return {
        tooltip: {
          confine: true,
          formatter: function (item) {
            const d = item.data;
            const cases = d.uncovered ? "no cases" : d.value + " cases";
            return escapeText(item.treePathInfo.map((p) => p.name).filter(Boolean).join(" / ")) + "<br>" +
              escapeText(cases + (d.uncovered ? "" : ", accuracy " + percent(d.accuracy)));
          },
        },
        series: [{
          name: "skills",
          type: "treemap",
          data: nodes,
          roam: false,
          nodeClick: false,
          breadcrumb: { show: false },
          leafDepth: 2,
          label: { show: true, formatter: "{b}" },
          // level 0 is the invisible root, 1 the skills (named in a header), 2 the categories
          levels: [
            { itemStyle: { borderWidth: 0, gapWidth: 6 } },
            { itemStyle: { borderWidth: 3, gapWidth: 2 },
              upperLabel: { show: true, height: 22, color: "#ffffff", fontWeight: "bold" } },
            { itemStyle: { borderColor: "rgba(255,255,255,0.7)", borderWidth: 1, gapWidth: 1 } },
          ],
        }],
      };
    },
    versions: function (data) {
      const rows = data.versions.filter((v) => v.accuracy !== null);
      return {
        tooltip: axisTooltip((v) => percent(v)),
        grid: { left: 50, right: 20, top: 20, bottom: 40 },
        xAxis: { type: "category", data: rows.map((v) => v.event ? "#" + v.event.event_id : String(v.hash).slice(0, 8)) },
        yAxis: percentAxis,
        series: [{
          name: "accuracy",
          type: "bar",
          data: rows.map((v) => ({ value: v.accuracy, itemStyle: { color: accuracyColour(v.accuracy) } })),
        }],
      };
    },
    sequence: function (data) {
      const pairs = data.path.map((p) => p.pairs);
      return {
        tooltip: axisTooltip((v) => (v >= 0 ? "+" : "") + (v * 100).toFixed(1) + " pt"),
        grid: { left: 60, right: 20, top: 30, bottom: 40 },
        xAxis: { type: "category", data: pairs },
        yAxis: { type: "value", min: -1, max: 1, axisLabel: { formatter: (v) => (v * 100).toFixed(0) + " pt" } },
        series: [
          { name: "low", type: "line", data: data.path.map((p) => p.low), lineStyle: { opacity: 0 }, stack: "band", stackStrategy: "all", symbol: "none" },
          { name: "interval", type: "line", data: data.path.map((p) => p.high - p.low), lineStyle: { opacity: 0 },
            areaStyle: { color: "rgba(21, 101, 192, 0.2)" }, stack: "band", stackStrategy: "all", symbol: "none" },
          { name: "treatment − control", type: "line", data: data.path.map((p) => p.estimate), itemStyle: { color: BLUE }, symbol: "none",
            markLine: dashedLine(0, "0", GREY) },
        ],
      };
    },
    latency: function (data) {
      const days = data.days.map((d) => d.day);
      return {
        tooltip: axisTooltip((v) => (v === null ? "–" : Number(v).toFixed(3) + " s")),
        legend: { top: 0 },
        grid: { left: 50, right: 20, top: 30, bottom: 40 },
        xAxis: { type: "category", data: days },
        yAxis: { type: "value", axisLabel: { formatter: "{value} s" } },
        series: ["p50", "p95", "p99"].map((p) => ({ name: p, type: "line", data: data.days.map((d) => d.latency_s[p]) })),
      };
    },
    shares: function (data) {
      return {
        tooltip: axisTooltip((v) => percent(v, 2)),
        legend: { top: 0 },
        grid: { left: 50, right: 20, top: 30, bottom: 40 },
        xAxis: { type: "category", data: data.days.map((d) => d.day) },
        yAxis: { type: "value", min: 0, axisLabel: { formatter: axisPercent } },
        series: [
          { name: "429/529", type: "bar", data: data.days.map((d) => d.rate_limited_share), itemStyle: { color: AMBER } },
          { name: "5xx", type: "bar", data: data.days.map((d) => d.server_error_share), itemStyle: { color: RED } },
        ],
      };
    },
    tokens: function (data) {
      const kinds = ["input", "output", "cache_read", "cache_write"];
      return {
        tooltip: axisTooltip((v) => Number(v).toLocaleString("en")),
        legend: { top: 0 },
        grid: { left: 70, right: 20, top: 30, bottom: 40 },
        xAxis: { type: "category", data: data.days.map((d) => d.day) },
        yAxis: { type: "value" },
        series: kinds.map((k) => ({ name: k.replace("_", " "), type: "bar", stack: "tokens", data: data.days.map((d) => d.tokens[k]) })),
      };
    },
    models: function (data) {
      return {
        tooltip: axisTooltip((v) => "$" + Number(v).toFixed(4)),
        grid: { left: 60, right: 20, top: 20, bottom: 60 },
        xAxis: { type: "category", data: data.models.map((m) => m.model), axisLabel: { rotate: 20 } },
        yAxis: { type: "value", axisLabel: { formatter: (v) => "$" + v } },
        series: [{ name: "spend", type: "bar", data: data.models.map((m) => m.cost_usd), itemStyle: { color: BLUE } }],
      };
    },
    wordcloud: function (data) {
      return {
        tooltip: {
          confine: true,
          formatter: (item) => escapeText(item.name + ": " + Number(item.value).toFixed(3)),
        },
        series: [{
          name: "terms",
          type: "wordCloud",
          shape: "circle",
          sizeRange: [12, 52],
          rotationRange: [0, 0],
          gridSize: 6,
          drawOutOfBound: false,
          textStyle: { color: () => [BLUE, RED, GREEN, AMBER, "#6a1b9a"][Math.floor(Math.random() * 5)] },
          data: data.terms.map((t) => ({ name: t.term, value: t.weight })),
        }],
      };
    },
  };

  const charts = [];

  function drawCharts() {
    document.querySelectorAll(".chart[data-kind]").forEach(function (element) {
      const source = document.getElementById(element.dataset.source);
      const build = builders[element.dataset.kind];
      if (!source || !build) {
        throw new Error("routelens: no data or no builder for chart " + element.id);
      }
      const chart = echarts.init(element, null, { renderer: "canvas" });
      chart.on("finished", function () {
        element.dataset.drawn = "true";
      });
      chart.setOption(build(JSON.parse(source.textContent)));
      charts.push(chart);
      if (element.dataset.kind === "strip") {
        chart.on("click", function (item) {
          const picker = document.querySelector("form.diff-picker select[name=b]");
          if (picker) {
            picker.value = String(JSON.parse(source.textContent).attempts[item.dataIndex].attempt_id);
            picker.form.submit();
          }
        });
      }
    });
    window.addEventListener("resize", function () {
      charts.forEach((chart) => chart.resize());
    });
  }

  // Filter and picker forms submit as soon as a choice changes (text fields on Enter).
  function autosubmitForms() {
    document.querySelectorAll("form.autosubmit").forEach(function (form) {
      form.querySelectorAll("select").forEach(function (select) {
        select.addEventListener("change", function () {
          form.submit();
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    autosubmitForms();
    drawCharts();
  });
})();
