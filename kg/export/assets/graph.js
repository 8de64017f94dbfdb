/* tradekg graph page: legend and type filter, search, details panel.
 *
 * Every string from the data reaches the page through textContent or as a
 * Cytoscape label drawn on a canvas; nothing is ever assigned to innerHTML,
 * so a company whose name is an HTML tag shows as that text.
 * The page makes no network request: the data is the JSON block above and
 * the library is inlined. Source links open only on a click, and only for
 * http(s) URLs.
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("graph-data").textContent);

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function normalise(text) {
    return String(text || "").normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
  }

  document.getElementById("title").textContent = data.title;

  var elements = [];
  data.nodes.forEach(function (n) {
    var node = { group: "nodes", data: {
      id: n.id, short: n.short, label: n.label, kind: n.kind, colour: n.colour, shape: n.shape,
      width: n.width, height: n.height, record: n.record ? 1 : 0, focus: n.focus ? 1 : 0, distance: n.distance
    } };
    if (n.position) { node.position = { x: n.position[0], y: n.position[1] }; }
    elements.push(node);
  });
  data.edges.forEach(function (e) {
    elements.push({ group: "edges", data: {
      id: e.id, source: e.source, target: e.target, label: e.label, derived: e.derived ? 1 : 0
    } });
  });

  var hasPositions = data.nodes.length > 0 && data.nodes.every(function (n) { return !!n.position; });
  var layouts = {
    graphviz: { name: "preset", fit: false, padding: 30 },
    force: { name: "cose", animate: false, randomize: true, idealEdgeLength: function () { return 90; },
             nodeRepulsion: function () { return 12000; }, nodeOverlap: 24, numIter: 1500, padding: 30, fit: false },
    rings: { name: "concentric", fit: false, padding: 30, minNodeSpacing: 14, avoidOverlap: true,
             concentric: function (node) { return 100 - (node.data("distance") || 0) * 10 - node.data("record"); },
             levelWidth: function () { return 1; } },
    grid: { name: "grid", fit: false, padding: 30, avoidOverlap: true,
            sort: function (a, b) { return a.data("kind") < b.data("kind") ? -1 : a.data("kind") > b.data("kind") ? 1 : 0; } }
  };
  var layoutNames = { graphviz: "Graphviz (as the SVG)", force: "Force-directed", rings: "Rings around the focus",
                      grid: "Grid by type" };
  var select = document.getElementById("layout");
  Object.keys(layouts).forEach(function (name) {
    if (name === "graphviz" && !hasPositions) { return; }
    if (name === "rings" && !data.focus) { return; }
    var option = el("option", layoutNames[name]);
    option.value = name;
    select.appendChild(option);
  });
  // A force layout of thousands of nodes would freeze the tab: lay big graphs out on a grid.
  var firstLayout = hasPositions ? "graphviz" : (data.nodes.length > 400 ? "grid" : "force");
  select.value = firstLayout;

  var cy = cytoscape({
    container: document.getElementById("cy"),
    elements: elements,
    layout: layouts[firstLayout],
    minZoom: 0.05,
    maxZoom: 6,
    style: [
      { selector: "node", style: {
        "label": "data(short)", "text-wrap": "wrap", "text-valign": "center", "text-halign": "center",
        "font-size": 11, "font-family": "DejaVu Sans, Helvetica, Arial, sans-serif", "color": "#111",
        "background-color": "data(colour)", "shape": "data(shape)", "width": "data(width)", "height": "data(height)",
        "border-width": 1, "border-color": "#333", "min-zoomed-font-size": 5 } },
      { selector: "node[record = 1]", style: { "border-style": "dashed", "font-size": 9 } },
      { selector: "node[focus = 1]", style: { "border-width": 4, "border-color": "#000", "font-size": 14,
        "font-weight": "bold" } },
      { selector: "edge", style: {
        "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.7, "width": 1,
        "line-color": "#9a9a9a", "target-arrow-color": "#9a9a9a", "label": "data(label)", "font-size": 7,
        "color": "#555", "text-rotation": "autorotate", "text-background-color": "#fff",
        "text-background-opacity": 0.8, "text-background-padding": 1, "min-zoomed-font-size": 7 } },
      { selector: "edge[derived = 1]", style: { "line-style": "dashed" } },
      { selector: ".faded", style: { "opacity": 0.12 } },
      { selector: ".match", style: { "border-width": 4, "border-color": "#1f5fbf" } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#d62728" } },
      { selector: "edge.near", style: { "line-color": "#444", "target-arrow-color": "#444", "width": 2 } }
    ]
  });

  // ---- the opening view: the focus and its neighbours, at a size one can read --------
  // Fitting the whole graph drew labels 6 pixels high. Every layout opens on the
  // focus (or, without one, the best-connected node) and the nodes next to it,
  // zoomed so a label is at least READABLE_FONT pixels; "Fit all" shows everything.
  var READABLE_FONT = 11;
  var BASE_FONT = 11;
  function centreNode() {
    if (data.focus) {
      var f = cy.getElementById(data.focus);
      if (f.nonempty()) { return f; }
    }
    var best = null;
    cy.nodes(":visible").forEach(function (n) {
      if (!best || n.degree(false) > best.degree(false)) { best = n; }
    });
    return best;
  }
  function openingView() {
    var centre = centreNode();
    if (!centre) { return; }
    var hood = centre.closedNeighborhood().nodes(":visible");
    cy.fit(hood, 40);
    var readable = READABLE_FONT / BASE_FONT;
    if (cy.zoom() < readable) {
      cy.zoom({ level: readable, position: centre.position() });
      cy.center(centre);
    }
  }
  window.tradekgOpeningView = openingView;
  openingView();

  select.addEventListener("change", function () {
    var run = cy.layout(layouts[select.value]);
    run.one("layoutstop", openingView);
    run.run();
  });
  document.getElementById("fit").addEventListener("click", function () { cy.fit(cy.elements(":visible"), 30); });

  var byId = {};
  data.nodes.forEach(function (n) { byId[n.id] = n; });

  // ---- legend doubles as the type filter ---------------------------------
  var hiddenKinds = {};
  var legend = document.getElementById("legend");
  data.kinds.forEach(function (k) {
    var item = el("li");
    var box = el("input");
    box.type = "checkbox";
    box.checked = true;
    box.setAttribute("aria-label", "show " + k.label);
    box.dataset.kind = k.kind;
    var swatch = el("span", "", "swatch" + (k.record ? " record" : ""));
    swatch.style.backgroundColor = k.colour;
    item.appendChild(box);
    item.appendChild(swatch);
    item.appendChild(el("span", k.label + (k.record ? " (record)" : "")));
    item.appendChild(el("span", String(k.count), "count"));
    box.addEventListener("change", function () {
      hiddenKinds[k.kind] = !box.checked;
      cy.nodes().filter(function (n) { return n.data("kind") === k.kind; }).style("display", box.checked ? "element" : "none");
      updateCounts();
    });
    legend.appendChild(item);
  });
  if (data.edges.some(function (e) { return e.derived; })) {
    var derived = el("li");
    derived.appendChild(el("span", "", "derived"));
    derived.appendChild(el("span", "derived link (computed, not stated in a source)"));
    legend.appendChild(derived);
  }

  function updateCounts() {
    var shown = cy.nodes(":visible").length;
    var links = cy.edges(":visible").length;
    document.getElementById("counts").textContent =
      shown + " of " + data.nodes.length + " nodes shown, " + links + " of " + data.edges.length + " links" +
      (data.note ? " · " + data.note : "");
  }
  updateCounts();

  // ---- details panel ------------------------------------------------------
  var details = document.getElementById("details");

  function nodeButton(id) {
    var target = byId[id];
    var button = el("button", target ? target.label : id, "link");
    button.type = "button";
    button.addEventListener("click", function () { focusNode(id); });
    return button;
  }

  function showDetails(id) {
    var n = byId[id];
    clear(details);
    if (!n) { return; }
    details.appendChild(el("h3", n.label));
    details.appendChild(el("div", n.type + (n.record ? " (record)" : ""), "type"));
    var table = el("table");
    var rows = [["IRI", n.iri]].concat(n.attributes);
    rows.forEach(function (pair) {
      var tr = el("tr");
      tr.appendChild(el("td", pair[0], "key"));
      tr.appendChild(el("td", pair[1]));
      table.appendChild(tr);
    });
    details.appendChild(table);

    var outgoing = data.edges.filter(function (e) { return e.source === id; });
    var incoming = data.edges.filter(function (e) { return e.target === id; });
    if (outgoing.length || incoming.length) {
      details.appendChild(el("h2", "Links"));
      var list = el("ul");
      outgoing.forEach(function (e) {
        var li = el("li");
        li.appendChild(el("span", e.label + (e.derived ? " (derived)" : "") + " → "));
        li.appendChild(nodeButton(e.target));
        list.appendChild(li);
      });
      incoming.forEach(function (e) {
        var li = el("li");
        li.appendChild(nodeButton(e.source));
        li.appendChild(el("span", " → " + e.label + (e.derived ? " (derived)" : "")));
        list.appendChild(li);
      });
      details.appendChild(list);
    }

    details.appendChild(el("h2", "Sources"));
    if (!n.sources.length) {
      details.appendChild(el("p", "No source is recorded for this node itself; see its links.", "muted"));
    } else {
      var sources = el("ul");
      n.sources.forEach(function (s) {
        var li = el("li");
        if (/^https?:\/\//i.test(s.url)) {
          var a = el("a", s.title);
          a.href = s.url;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          li.appendChild(a);
        } else {
          li.appendChild(el("span", s.title));
          if (s.url) { li.appendChild(el("span", " " + s.url, "muted")); }
        }
        sources.appendChild(li);
      });
      details.appendChild(sources);
    }
  }

  function highlight(node) {
    cy.elements().removeClass("faded near");
    if (!node) { return; }
    var hood = node.closedNeighborhood();
    cy.elements().not(hood).addClass("faded");
    node.connectedEdges().addClass("near");
  }

  function focusNode(id) {
    var node = cy.getElementById(id);
    if (!node || node.empty()) { return; }
    if (node.style("display") === "none") { node.style("display", "element"); }
    cy.$(":selected").unselect();
    node.select();
    highlight(node);
    showDetails(id);
    cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1.1) }, { duration: 250 });
  }

  cy.on("tap", "node", function (event) { focusNode(event.target.id()); });
  cy.on("tap", function (event) {
    if (event.target === cy) { cy.$(":selected").unselect(); highlight(null); }
  });

  // ---- search -------------------------------------------------------------
  // Each node is found by its name, picture label, aliases, citation and identifier.
  var searchIndex = {};
  data.nodes.forEach(function (n) {
    var names = [n.label, n.short.replace(/\n/g, " ")].concat(n.names).map(normalise);
    searchIndex[n.id] = { names: names, text: names.join(" | ") };
  });

  // Best first: a name typed in full ("Huawei" is Huawei's alias), then names that
  // start with the query, then the rest; entities before records, shorter names first.
  function rank(n, q) {
    var entry = searchIndex[n.id];
    if (entry.names.indexOf(q) !== -1) { return 0; }
    if (entry.names.some(function (name) { return name.indexOf(q) === 0; })) { return 1; }
    return 2;
  }

  function search(query) {
    var q = normalise(query);
    if (!q) { return []; }
    var hits = data.nodes.filter(function (n) { return searchIndex[n.id].text.indexOf(q) !== -1; });
    hits.sort(function (a, b) {
      return (a.record - b.record) || (rank(a, q) - rank(b, q)) || (a.label.length - b.label.length) ||
        (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
    });
    return hits.map(function (n) { return n.id; });
  }

  var input = document.getElementById("search");
  var results = document.getElementById("search-results");

  function showResults() {
    var ids = search(input.value);
    clear(results);
    cy.nodes().removeClass("match");
    ids.slice(0, 30).forEach(function (id, i) {
      var n = byId[id];
      var li = el("li");
      li.setAttribute("role", "option");
      li.dataset.id = id;
      if (i === 0) { li.className = "active"; }
      li.appendChild(el("span", n.label, "name"));
      li.appendChild(el("span", n.type, "kind"));
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(id);
      });
      results.appendChild(li);
    });
    ids.forEach(function (id) { cy.getElementById(id).addClass("match"); });
    return ids;
  }

  function choose(id) {
    clear(results);
    focusNode(id);
  }

  input.addEventListener("input", showResults);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      var first = results.querySelector("li");
      if (first) { choose(first.dataset.id); }
    } else if (event.key === "Escape") {
      clear(results);
    }
  });
  input.addEventListener("blur", function () {
    // Close the list when the reader has moved on, not when the box was only refocused.
    setTimeout(function () { if (document.activeElement !== input) { clear(results); } }, 150);
  });

  document.getElementById("clear").addEventListener("click", function () {
    input.value = "";
    clear(results);
    cy.nodes().removeClass("match");
    cy.$(":selected").unselect();
    highlight(null);
    clear(details);
    details.appendChild(el("p", "Click a node to see its attributes, links and sources.", "muted"));
  });

  if (data.focus) {
    var focus = cy.getElementById(data.focus);
    if (focus.nonempty()) { focus.select(); showDetails(data.focus); }
  }

  // A handle for tests and for curious readers with a console.
  window.tradekgPage = { cy: cy, data: data, search: search, showResults: showResults, focusNode: focusNode };
})();
