// Charts of the report analysis page: a map of Guangdong by city and the trend line.
// The data comes from the page's JSON block; the map outlines from a static file.
(() => {
  const source = document.getElementById("analysis-data");
  if (!source || !window.echarts) {
    return;
  }
  const data = JSON.parse(source.textContent);

  const trend = document.getElementById("chart-trend");
  if (trend) {
    echarts.init(trend).setOption({
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.trend.map((row) => row[0]) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "line", data: data.trend.map((row) => row[1]), smooth: true }],
    });
  }

  const map = document.getElementById("chart-map");
  if (map) {
    fetch(map.dataset.geo)
      .then((response) => response.json())
      .then((geo) => {
        echarts.registerMap("guangdong", geo);
        const highest = Math.max(1, ...data.cities.map((city) => city.value));
        echarts.init(map).setOption({
          tooltip: { trigger: "item" },
          visualMap: { min: 0, max: highest, left: "left", bottom: 0, calculable: true },
          series: [{ type: "map", map: "guangdong", roam: false, data: data.cities }],
        });
        map.dataset.ready = "true";
      })
      .catch((error) => console.warn("Zhixing: the map could not be drawn", error));
  }
})();
