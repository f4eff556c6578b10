// Skynet wall display: roads, cameras by status, live sightings and the active target,
// drawn as SVG from the API's GeoJSON. No library, no tiles, nothing from the internet.
// The token comes in the URL fragment (/wall#token=...), which browsers never send to
// the server; it is kept for the tab's life in sessionStorage and taken off the URL.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const LIVE_MS = 120000; // a live sighting stays on the map this long
  const FEED_MAX = 60;
  const MAJOR = new Set(["motorway", "trunk", "primary", "secondary", "motorway_link",
    "trunk_link", "primary_link", "secondary_link"]);
  const state = { cameras: new Map(), project: null, socket: null, retryMs: 1000, sightings: 0 };
  const $ = (id) => document.getElementById(id);

  function takeToken() {
    const match = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
    if (match) {
      sessionStorage.setItem("skynet-token", decodeURIComponent(match[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem("skynet-token");
  }
  const token = takeToken();

  function say(text) {
    const box = $("message");
    box.textContent = text;
    box.hidden = !text;
  }

  async function api(path) {
    const response = await fetch(path, { headers: { Authorization: "Bearer " + token } });
    if (response.status === 404) return null;
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      const error = new Error(path + ": " + detail);
      error.status = response.status;
      throw error;
    }
    return response.json();
  }

  function el(name, attributes, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  // Equirectangular, shrunk by cos(latitude) so that a city keeps its shape.
  function projection(points) {
    let west = Infinity, south = Infinity, east = -Infinity, north = -Infinity;
    for (const [lon, lat] of points) {
      west = Math.min(west, lon); east = Math.max(east, lon);
      south = Math.min(south, lat); north = Math.max(north, lat);
    }
    if (!isFinite(west)) { west = -1; east = 1; south = -1; north = 1; }
    const k = Math.cos(((south + north) / 2) * Math.PI / 180);
    const scale = 1000 / Math.max((east - west) * k, north - south, 1e-6);
    const project = ([lon, lat]) => [(lon - west) * k * scale, (north - lat) * scale];
    const [width, height] = project([east, south]);
    const pad = 20;
    project.box = [-pad, -pad, width + 2 * pad, height + 2 * pad];
    return project;
  }

  function pathOf(coordinates) {
    return coordinates.map((point, i) => {
      const [x, y] = state.project(point);
      return (i ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
    }).join("");
  }

  function lines(geometry) {
    if (!geometry) return [];
    if (geometry.type === "LineString") return [geometry.coordinates];
    if (geometry.type === "MultiLineString") return geometry.coordinates;
    return [];
  }

  function drawRoads(roads) {
    const layer = $("roads");
    layer.replaceChildren();
    for (const feature of roads.features) {
      for (const line of lines(feature.geometry)) {
        const cls = MAJOR.has(feature.properties.highway) ? "major" : "minor";
        el("path", { d: pathOf(line), class: cls }, layer);
      }
    }
    document.body.dataset.roads = String(layer.childElementCount);
  }

  function statusClass(status) {
    return status === "online" || status === "offline" ? status : "other";
  }

  function drawCamera(feature) {
    const id = String(feature.id);
    const old = state.cameras.get(id);
    if (old) old.remove();
    const [x, y] = state.project(feature.geometry.coordinates);
    const status = feature.properties.status;
    const dot = el("circle", {
      cx: x.toFixed(1), cy: y.toFixed(1), r: 4, class: statusClass(status),
      "data-camera-id": id, "data-status": status,
    }, $("cameras"));
    const title = el("title", {}, dot);
    title.textContent = id + " · " + (feature.properties.name || "") + " · " + status;
    state.cameras.set(id, dot);
    document.body.dataset.cameras = String(state.cameras.size);
  }

  function drawCameras(collection) {
    $("cameras").replaceChildren();
    state.cameras.clear();
    collection.features.forEach(drawCamera);
    document.body.dataset.cameras = String(state.cameras.size);
  }

  function when(iso) {
    return new Date(iso).toLocaleTimeString([], { hour12: false });
  }

  function drawTarget(target) {
    const route = $("route"), alternatives = $("alternatives"), list = $("timeline");
    route.replaceChildren(); alternatives.replaceChildren(); list.replaceChildren();
    document.body.dataset.route = "0";
    if (!target) {
      $("target-summary").textContent = "none on the wall";
      return;
    }
    let drawn = 0;
    for (const feature of (target.route ? target.route.features : [])) {
      const role = feature.properties.role;
      if (role === "route" || role === "alternative") {
        for (const line of lines(feature.geometry)) {
          el("path", { d: pathOf(line), "data-role": role },
            role === "route" ? route : alternatives);
          if (role === "route") drawn += 1;
        }
      }
    }
    const seen = new Set();
    for (const entry of target.timeline) {
      const s = entry.sighting;
      const item = document.createElement("li");
      item.textContent = when(s.t_in) + "  " + s.camera_id + "  " + s.vehicle_class;
      list.appendChild(item);
      const camera = state.cameras.get(s.camera_id);
      if (camera && !seen.has(s.camera_id)) {
        seen.add(s.camera_id);
        el("circle", { cx: camera.getAttribute("cx"), cy: camera.getAttribute("cy"), r: 6,
          class: "seen", "data-sighting-id": s.id }, route);
      }
    }
    const km = target.route ? (target.route.features[0].properties.length_m / 1000).toFixed(1) : "?";
    $("target-summary").textContent = "case " + target.case_id + " · target " + target.target_id +
      " · " + target.timeline.length + " sightings · route " + km + " km";
    document.body.dataset.route = String(drawn);
  }

  function addLive(message, isAlert) {
    if (message.lon === null || message.lon === undefined) return;
    const [x, y] = state.project([message.lon, message.lat]);
    const id = isAlert ? message.alert.sighting_id : message.sighting.id;
    const dot = el("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: isAlert ? 10 : 5,
      class: isAlert ? "alert" : "live", "data-sighting-id": id }, $("sightings"));
    setTimeout(() => dot.remove(), LIVE_MS);
    const item = document.createElement("li");
    if (isAlert) {
      item.className = "alert";
      item.textContent = "ALERT " + when(message.alert.t_in) + " " + message.alert.camera_id +
        " (case " + message.alert.case_id + ")";
    } else {
      item.textContent = when(message.sighting.t_in) + "  " + message.sighting.camera_id +
        "  " + message.sighting.vehicle_class;
    }
    const feed = $("feed");
    feed.prepend(item);
    while (feed.childElementCount > FEED_MAX) feed.lastChild.remove();
    if (!isAlert) state.sightings += 1;
    document.body.dataset.sightings = String(state.sightings);
    $("counts").textContent = state.cameras.size + " cameras · " + state.sightings + " live sightings";
  }

  function onMessage(event) {
    const message = JSON.parse(event.data);
    if (message.type === "hello") {
      setLink("open", "live");
      state.retryMs = 1000;
    } else if (message.type === "sighting") {
      addLive(message, false);
    } else if (message.type === "alert") {
      addLive(message, true);
    } else if (message.type === "camera") {
      const camera = message.camera;
      if (camera.removed) {
        const dot = state.cameras.get(String(camera.id));
        if (dot) dot.remove();
        state.cameras.delete(String(camera.id));
      } else {
        drawCamera(camera);
      }
    } else if (message.type === "target") {
      loadTarget();
    } else if (message.type === "error") {
      setLink("refused", message.detail);
    }
  }

  function setLink(kind, text) {
    const link = $("link");
    link.className = "link " + kind;
    link.textContent = text;
    document.body.dataset.ws = kind;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/events");
    state.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ token: token }));
    socket.onmessage = onMessage;
    socket.onclose = (event) => {
      if (event.code === 1008) {
        setLink("refused", "refused: " + (event.reason || "token"));
        return; // a refused token will not get better by retrying
      }
      setLink("reconnecting", "reconnecting…");
      setTimeout(reload, state.retryMs);
      state.retryMs = Math.min(state.retryMs * 2, 10000);
    };
  }

  async function loadTarget() {
    try {
      drawTarget(await api("/wall/target"));
    } catch (error) {
      say(error.message);
    }
  }

  // Everything the wall shows, fetched again: at start and after each reconnect, since
  // the server may have restarted with other cameras or another target.
  async function reload() {
    try {
      const [cameras, found] = await Promise.all([api("/cameras"), api("/roads?zoom=14")]);
      const roads = found || { features: [] }; // a database without roads yet: cameras alone
      const points = cameras.features.map((f) => f.geometry.coordinates);
      for (const road of roads.features) for (const line of lines(road.geometry)) points.push(...line);
      state.project = projection(points);
      resetView();
      drawRoads(roads);
      drawCameras(cameras);
      await loadTarget();
      say("");
      $("counts").textContent = state.cameras.size + " cameras · " + state.sightings + " live sightings";
      connect();
    } catch (error) {
      if (error.status === 401 || error.status === 403) {
        setLink("refused", "refused");
        say(error.message + " — open /wall#token=YOUR_WALL_TOKEN");
        return;
      }
      setLink("reconnecting", "server away, retrying…");
      say(error.message);
      setTimeout(reload, state.retryMs);
      state.retryMs = Math.min(state.retryMs * 2, 10000);
    }
  }

  // Wheel zooms about the pointer, dragging pans: the view box changes, nothing is redrawn.
  let view = [0, 0, 1000, 1000];
  function resetView() {
    view = state.project.box.slice();
    $("map").setAttribute("viewBox", view.join(" "));
  }
  function setupPanZoom() {
    const map = $("map");
    map.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = map.getBoundingClientRect();
      const fx = (event.clientX - rect.left) / rect.width, fy = (event.clientY - rect.top) / rect.height;
      const factor = event.deltaY < 0 ? 0.8 : 1.25;
      const [x, y, w, h] = view;
      view = [x + fx * w * (1 - factor), y + fy * h * (1 - factor), w * factor, h * factor];
      map.setAttribute("viewBox", view.join(" "));
    }, { passive: false });
    let drag = null;
    map.addEventListener("pointerdown", (event) => { drag = [event.clientX, event.clientY]; });
    window.addEventListener("pointerup", () => { drag = null; });
    map.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const rect = map.getBoundingClientRect();
      view[0] -= (event.clientX - drag[0]) * view[2] / rect.width;
      view[1] -= (event.clientY - drag[1]) * view[3] / rect.height;
      drag = [event.clientX, event.clientY];
      map.setAttribute("viewBox", view.join(" "));
    });
  }

  setInterval(() => { $("clock").textContent = new Date().toLocaleString([], { hour12: false }); }, 1000);
  setupPanZoom();
  if (!token) {
    setLink("refused", "no token");
    say("open this page as /wall#token=YOUR_WALL_TOKEN (skynet tokens create --role wall)");
  } else {
    reload();
  }
})();
