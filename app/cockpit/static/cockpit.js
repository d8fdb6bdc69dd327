/* The cockpit page (console and wall screen): loads the figures, draws the ECharts, keeps the live list
   from server-sent events, and reconnects by itself after a network drop or a server restart. */
(function () {
  "use strict";
  var root = document.getElementById("cockpit");
  if (!root || !window.echarts) { return; }
  var wall = root.dataset.mode === "wall";
  var firstUrl = root.dataset.dataUrl;
  var pollUrl = firstUrl.replace(/([?&])health=1(&|$)/, "$1").replace(/[?&]$/, "");
  var streamUrl = root.dataset.streamUrl;
  var theme = wall ? "dark" : null;
  var POLL_MS = 30000;
  var charts = {};
  var healthTile = null;
  var stopped = false;
  var pollTimer = null;
  var retryMs = 2000;
  var source = null;
  var lastEventId = null;
  var seen = {};
  var COLOURS = { red: "#d64541", amber: "#e0a100", green: "#2e9d57" };
  var STATUS_ZH = { red: "红", amber: "黄", green: "绿" };

  function byId(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function num(value) { return typeof value === "number" ? value : null; }
  function shown(value) { return value === null || value === undefined ? "—" : String(value); }
  function clock(iso) {
    if (!iso) { return ""; }
    var at = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : iso + "Z");
    return at.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false });
  }
  function setConn(state, text) {
    var node = byId("ck-conn");
    node.className = "ck-conn " + state;
    node.textContent = text;
  }

  // ---- charts ------------------------------------------------------------------------------
  var pending = 0;
  function chart(id) {
    if (!charts[id]) {
      var dom = byId(id);
      if (!dom) { return null; }
      charts[id] = echarts.init(dom, theme);
      charts[id].on("finished", function () {
        if (dom.dataset.rendered !== "1") {
          dom.dataset.rendered = "1";
          pending -= 1;
          if (pending <= 0) { document.body.dataset.chartsReady = "1"; }
        }
      });
      pending += 1;
    }
    return charts[id];
  }
  function draw(id, option) {
    var c = chart(id);
    option.animation = false;  // a wall screen needs the figures at once, not a transition
    if (c) { c.setOption(option, true); }
  }
  function hidePanel(id) {
    var dom = byId(id);
    if (dom && dom.parentNode) { dom.parentNode.hidden = true; }
  }
  function bars(id, pairs, colour) {
    if (!pairs || !pairs.length) { hidePanel(id); return; }
    draw(id, {
      backgroundColor: "transparent", grid: { left: 40, right: 10, top: 20, bottom: 40 }, tooltip: {},
      xAxis: { type: "category", data: pairs.map(function (p) { return p[0]; }), axisLabel: { interval: 0, rotate: pairs.length > 8 ? 40 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", itemStyle: { color: colour },
        data: pairs.map(function (p) { return { value: num(p[1]), shownAs: p[1] }; }),
        label: { show: true, position: "top", formatter: function (d) { return shown(d.data.shownAs); } } }]
    });
  }
  function trend(id, trends, days) {
    var labels = trends.days.slice(-days).map(function (d) { return d.slice(5); });
    draw(id, {
      backgroundColor: "transparent", tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 36, right: 12, top: 34, bottom: 28 },
      xAxis: { type: "category", data: labels }, yAxis: { type: "value", minInterval: 1 },
      series: trends.series.map(function (s) {
        return { name: s.label, type: "line", symbolSize: 5, data: s.values.slice(-days) };
      })
    });
  }
  function plan(id, buildings, rule) {
    if (!buildings || !buildings.length) { hidePanel(id); return; }
    var cols = Math.max(3, Math.ceil(Math.sqrt(buildings.length * 1.8)));
    var rows = Math.ceil(buildings.length / cols);
    draw(id, {
      backgroundColor: "transparent",
      tooltip: { formatter: function (p) {
        var b = p.data.building;
        return b.building + "幢：" + STATUS_ZH[b.status] + "<br>紧急告警 " + b.urgent_alarms + "，其他告警 " +
          b.other_alarms + "<br>超时工单 " + b.overdue_tickets + "，离线设备 " + b.offline_devices;
      } },
      grid: { left: 10, right: 10, top: 10, bottom: 10 },
      xAxis: { type: "value", min: -0.6, max: cols - 0.4, show: false },
      yAxis: { type: "value", min: -0.6, max: rows - 0.4, show: false, inverse: true },
      series: [{ type: "scatter", symbol: "roundRect", symbolSize: [46, 34],
        label: { show: true, color: "#fff", fontWeight: "bold", formatter: function (p) { return p.data.building.building + "幢"; } },
        data: buildings.map(function (b, i) {
          return { value: [i % cols, Math.floor(i / cols)], building: b, itemStyle: { color: COLOURS[b.status] } };
        }) }]
    });
    byId("plan-rule").textContent = rule || "";
  }
  function heatmap(id, heat) {
    if (!heat || !heat.buildings.length) { hidePanel(id); return; }
    draw(id, {
      backgroundColor: "transparent", tooltip: { position: "top" },
      grid: { left: 56, right: 12, top: 10, bottom: 56 },
      xAxis: { type: "category", data: heat.buildings, splitArea: { show: true }, axisLabel: { interval: 0, rotate: 40 } },
      yAxis: { type: "category", data: heat.rows, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(1, heat.max), calculable: false, orient: "horizontal", left: "center", bottom: 0,
        itemHeight: 80, inRange: { color: ["#f5f7fa", "#ffd166", "#d64541"] } },
      series: [{ type: "heatmap", data: heat.cells, label: { show: true } }]
    });
  }
  function parking(id, hours, zones) {
    if (!hours) { hidePanel(id); return; }
    draw(id, {
      backgroundColor: "transparent", tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "无数据" : v + "%"; } },
      grid: { left: 40, right: 12, top: 16, bottom: 28 },
      xAxis: { type: "category", data: hours.hours }, yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{ type: "bar", data: hours.occupancy_pct, itemStyle: { color: "#2f6fde" } }]
    });
    var list = byId("ck-zones");
    list.textContent = "";
    (zones || []).forEach(function (z) {
      var age = z.age_minutes === null ? "无数据" : z.age_minutes + " 分钟前";
      var item = el("li", z.stale ? "stale" : "", z.name + "：空 " + z.free + " / 共 " + z.total + "（" + age + (z.stale ? "，数据过期" : "") + "）");
      list.appendChild(item);
    });
  }

  // ---- tiles, live list, street cards -----------------------------------------------------------
  function renderTiles(tiles) {
    var box = byId("ck-tiles");
    box.textContent = "";
    tiles.forEach(function (tile) {
      var node = el("div", "ck-tile" + (tile.alert ? " alert" : ""));
      node.id = "tile-" + tile.key;
      node.appendChild(el("div", "label", tile.label));
      node.appendChild(el("div", "num", shown(tile.value)));
      var list = el("ul");
      (tile.details || []).forEach(function (d) {
        var li = el("li");
        li.appendChild(el("span", "", d[0]));
        li.appendChild(el("span", "", shown(d[1])));
        list.appendChild(li);
      });
      node.appendChild(list);
      box.appendChild(node);
    });
  }
  function addLive(item, fresh) {
    var key = item.kind + ":" + item.id + ":" + (item.community_id || "");
    if (seen[key]) { return; }
    seen[key] = true;
    var list = byId("ck-live");
    var li = el("li", (item.urgent ? "urgent " : "") + (fresh ? "new" : ""));
    li.dataset.kind = item.kind;
    li.id = "live-" + item.kind + "-" + item.id;
    li.appendChild(el("time", "", clock(item.at)));
    li.appendChild(el("span", "", item.title));
    if (item.where) { li.appendChild(el("span", "", item.where)); }
    if (fresh) { list.insertBefore(li, list.firstChild); } else { list.appendChild(li); }
    while (list.children.length > 40) { list.removeChild(list.lastChild); }
  }
  function renderStreet(data) {
    var box = byId("ck-street");
    box.hidden = false;
    byId("ck-tiles").hidden = true;
    Array.prototype.forEach.call(byId("ck-charts").children, function (panel) {
      if (!panel.classList.contains("ck-live-panel")) { panel.hidden = true; }
    });
    byId("ck-title").textContent = "数字驾驶舱 · " + data.street.name;
    box.textContent = "";
    data.rows.forEach(function (row) {
      var card = el("div", "ck-card");
      card.id = "street-community-" + row.id;
      card.appendChild(el("strong", "", row.name));
      [["居民", row.residents], ["未完成工单", row.tickets_open], ["超时工单", row.sla_breached],
       ["未消除告警", row.alarms_active], ["等待人工", row.escalations_waiting], ["空余车位", row.parking]]
        .forEach(function (pair) { if (pair[1] !== null && pair[1] !== undefined) { card.appendChild(el("span", "", pair[0] + " " + pair[1])); } });
      var rag = el("span", "ck-rag");
      ["red", "amber", "green"].forEach(function (c) { rag.appendChild(el("i", "rag-" + c, STATUS_ZH[c] + " " + row.buildings[c])); rag.appendChild(document.createTextNode(" ")); });
      card.appendChild(rag);
      box.appendChild(card);
    });
    document.body.dataset.chartsReady = "1";
  }
  function render(data) {
    var updated = byId("ck-updated");
    if (data.rows) {
      renderStreet(data);
      updated.textContent = "各小区数字每30秒更新";
      return;
    }
    byId("ck-min-group").textContent = data.min_group;
    updated.textContent = "数据更新于 " + clock(data.computed_at) + "（" + data.age_seconds + " 秒前）";
    updated.className = data.stale ? "ck-stale" : "";
    var tiles = data.tiles.slice();
    var health = tiles.filter(function (t) { return t.key === "health"; })[0];
    if (health) { healthTile = health; } else if (healthTile) { tiles.push(healthTile); }
    renderTiles(tiles);
    var c = data.charts;
    trend("chart-trend7", c.trends, 7);
    trend("chart-trend30", c.trends, 30);
    plan("chart-plan", c.plan, c.plan_rule);
    heatmap("chart-heatmap", c.heatmap);
    parking("chart-parking", c.parking_hours, c.parking_zones);
    bars("chart-ages", c.age_bands, "#8e6fd8");
    bars("chart-buildings", c.residents_by_building, "#2f9ea0");
    (data.live || []).forEach(function (item) { addLive(item, false); });
  }

  // ---- loading and reconnecting -----------------------------------------------------------------
  function stop(message) {
    stopped = true;
    if (source) { source.close(); }
    clearTimeout(pollTimer);
    setConn("down", message);
  }
  function load(url) {
    clearTimeout(pollTimer);
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          stop(wall ? "此大屏链接已停用" : "登录已失效，请刷新页面重新登录");
          return null;
        }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (!data) { return; }
        render(data);
        retryMs = 2000;
        if (!stopped) { pollTimer = setTimeout(function () { load(pollUrl); }, POLL_MS); }
      })
      .catch(function () {
        if (stopped) { return; }
        setConn("down", "连接中断，正在重连…");
        pollTimer = setTimeout(function () { load(pollUrl); }, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      });
  }
  function onEvent(event) {
    lastEventId = event.lastEventId || lastEventId;
    var item = JSON.parse(event.data);
    addLive(item, true);
  }
  function connect() {
    if (stopped) { return; }
    var url = streamUrl + (lastEventId ? (streamUrl.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(lastEventId) : "");
    source = new EventSource(url);
    source.addEventListener("hello", function (event) { lastEventId = event.lastEventId || lastEventId; setConn("ok", "实时连接正常"); });
    source.addEventListener("alarm", onEvent);
    source.addEventListener("escalation", onEvent);
    source.addEventListener("figures", function () { load(pollUrl); });
    source.addEventListener("revoked", function () { stop("此大屏链接已停用"); });
    source.addEventListener("bye", function (event) {
      lastEventId = event.lastEventId || lastEventId;
      source.close();
      setTimeout(connect, 200);
    });
    source.onerror = function () {
      if (stopped) { return; }
      setConn("down", "连接中断，正在重连…");
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
        load(pollUrl);  // a refused stream (revoked) is told apart by the data request's 403
      }
    };
  }
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  load(firstUrl).then(connect);
})();
