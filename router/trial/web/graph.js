// The menu graph (`router graph`'s, drawn by Graphviz) with the caller's path lit.
//
// The server sends the graph's nodes (by what they stand for: "menu:support",
// "target:sip:...", "entry:+1510...") and its edges. In the SVG dot draws, a node's
// `<title>` is its id and an edge's is "source->target" (its label in its `<text>`):
// that is how each is found, since dot does not keep the edges' order.

export class MenuGraph {
  constructor(container) {
    this.container = container;
    this.version = null;
    this.events = [];
    this.reset();
  }

  async show(version, graph) {
    if (version === this.version) return;
    const response = await fetch(`/api/graph.svg?version=${encodeURIComponent(version)}`);
    if (!response.ok) return;
    const doc = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
    const svg = doc.documentElement;
    this.container.replaceChildren(document.importNode(svg, true));
    this.svg = this.container.querySelector("svg");
    const box = this.svg.viewBox.baseVal;
    this.size = { width: box.width, height: box.height };
    this.zoom(this.scale ?? null);
    this.version = version;
    this.graph = graph;
    this.nodeEls = new Map();
    for (const el of this.container.querySelectorAll("g.node")) {
      this.nodeEls.set(el.querySelector("title").textContent.trim(), el);
    }
    const drawn = new Map();
    for (const el of this.container.querySelectorAll("g.edge")) {
      const title = el.querySelector("title").textContent.trim();
      const label = [...el.querySelectorAll("text")].map((t) => t.textContent).join(" ").trim();
      const key = `${title}|${label}`;
      if (!drawn.has(key)) drawn.set(key, []);
      drawn.get(key).push(el);
    }
    this.edgeEls = graph.edges.map((e) => drawn.get(`${e.source}->${e.target}|${e.label}`)?.shift() ?? null);
    this.replay();
  }

  reset() {
    this.lit = { nodes: new Map(), edges: new Set(), current: null };
    this.last = null; // {menu, key} of the last key, to light the edge it took
    this.paint();
  }

  node(key) {
    return this.graph?.nodes[key]?.id ?? null;
  }

  edgesFrom(source, match) {
    if (!this.graph || !source) return [];
    const found = [];
    this.graph.edges.forEach((edge, i) => {
      if (edge.source === source && match(edge)) found.push(i);
    });
    return found;
  }

  take(indexes) {
    for (const i of indexes) this.lit.edges.add(i);
  }

  mark(id, cls) {
    if (id) this.lit.nodes.set(id, cls);
  }

  // --- the call's events -------------------------------------------------------------------

  on(event) {
    if (!this.graph) return;
    switch (event.type) {
      case "call_started": {
        this.reset();
        this.events = [];
        this.transferring = null;
        this.failedAt = null;
        const entry = this.node(`entry:${event.dialled ?? "default"}`);
        this.mark(entry, "visited");
        this.entry = entry;
        break;
      }
      case "menu_entered": {
        const here = this.node(`menu:${event.menu}`);
        if (event.how === "start" && this.entry) {
          // entry -> menu, or entry -> opening hours -> menu
          const direct = this.edgesFrom(this.entry, (e) => e.target === here);
          this.take(direct);
          for (const i of this.edgesFrom(this.entry, () => true)) {
            const via = this.graph.edges[i].target;
            const on = this.edgesFrom(via, (e) => e.target === here);
            if (on.length) { this.take([i, ...on]); this.mark(via, "visited"); }
          }
        } else if (this.last) {
          const from = this.node(`menu:${this.last.menu}`);
          this.take(this.edgesFrom(from, (e) => e.target === here && keyOf(e.label) === this.last.key));
        }
        if (this.lit.current) this.mark(this.lit.current, "visited");
        this.lit.current = here;
        this.last = null;
        break;
      }
      case "key":
        this.last = { menu: event.menu, key: event.key };
        break;
      case "invalid_key":
      case "no_input":
        this.last = null;
        break;
      case "transfer_requested": {
        const target = this.node(`target:${event.target}`);
        const here = this.node(`menu:${event.menu}`);
        let taken = [];
        if (this.last) taken = this.edgesFrom(here, (e) => e.target === target && keyOf(e.label) === this.last.key);
        if (!taken.length) {
          // an extension (menu -> directory -> target), a limit or a failure policy
          const anyPath = this.edgesFrom(here, (e) => e.target === target);
          taken = anyPath.length ? anyPath : [];
          for (const i of this.edgesFrom(here, (e) => e.label === "extension")) {
            const dir = this.graph.edges[i].target;
            const on = this.edgesFrom(dir, (e) => e.target === target);
            if (on.length) { taken = [i, ...on]; this.mark(dir, "visited"); }
          }
          if (!taken.length && this.failedAt) {
            taken = this.edgesFrom(this.failedAt.node, (e) => e.target === target && e.label.includes(this.failedAt.kind));
          }
        }
        this.take(taken);
        this.mark(target, "ringing");
        this.transferring = { node: target };
        this.last = null;
        break;
      }
      case "transfer_result": {
        const node = this.transferring?.node;
        this.mark(node, event.result === "succeeded" ? "answered" : "failed");
        this.failedAt = event.result === "succeeded" ? null : { node, kind: (event.kind ?? "error").replace("_", " ") };
        break;
      }
      case "prompt":
        // after a failure, the policy's edge out of the target (busy: repeat, no answer: ...)
        if (this.failedAt?.node) {
          const here = this.node(`menu:${event.menu}`);
          this.take(this.edgesFrom(this.failedAt.node, (e) => e.target === here && e.label.includes(this.failedAt.kind)));
        }
        break;
      case "call_ended":
        if (this.lit.current) this.mark(this.lit.current, "visited");
        if (event.reason !== "transferred") this.lit.current = null;
        break;
    }
    this.events.push(event);
    this.paint();
  }

  replay() {
    const events = this.events ?? [];
    this.events = [];
    this.reset();
    for (const event of events) this.on(event);
    this.paint();
  }

  paint() {
    if (!this.nodeEls) return;
    for (const [id, el] of this.nodeEls) {
      el.classList.remove("current", "visited", "ringing", "failed", "answered");
      const cls = this.lit.nodes.get(id);
      if (cls) el.classList.add(cls);
      if (id === this.lit.current) el.classList.add("current");
    }
    this.edgeEls.forEach((el, i) => el?.classList.toggle("taken", this.lit.edges.has(i)));
    this.focus();
  }

  // scale: a factor of dot's size; "fit": the width; null: fit, but never below half size
  zoom(scale) {
    if (!this.svg || !this.size) return;
    const fit = (this.container.clientWidth - 16) / this.size.width;
    this.scale = scale === "fit" ? fit : scale ?? Math.min(1, Math.max(fit, 0.5));
    this.svg.setAttribute("width", `${this.size.width * this.scale}pt`);
    this.svg.setAttribute("height", `${this.size.height * this.scale}pt`);
    this.focus();
  }

  // keep the node that matters in view: the transfer's target while it rings, else the menu
  focus() {
    const id = this.transferring && this.lit.nodes.get(this.transferring.node) === "ringing"
      ? this.transferring.node : this.lit.current;
    const el = id && this.nodeEls?.get(id);
    if (!el) return;
    const box = this.container.getBoundingClientRect();
    const at = el.getBoundingClientRect();
    this.container.scrollTo({
      left: this.container.scrollLeft + at.left - box.left - box.width / 2 + at.width / 2,
      top: this.container.scrollTop + at.top - box.top - box.height / 2 + at.height / 2,
      behavior: "smooth",
    });
  }

  // what the tests and tools can read
  litMenus() {
    const names = [];
    for (const [key, node] of Object.entries(this.graph?.nodes ?? {})) {
      if (node.id === this.lit.current && key.startsWith("menu:")) names.push(key.slice(5));
    }
    return names;
  }

  takenLabels() {
    return [...this.lit.edges].map((i) => this.graph.edges[i].label);
  }
}

// "2", "* : back" -> "*", "on limit" -> null
function keyOf(label) {
  const head = label.split(":")[0].trim();
  return /^[0-9*#A-D]$/.test(head) ? head : null;
}
