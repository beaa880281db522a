/**
 * OpenCV Haar cascades evaluated in TypeScript (the original demos' detector, docs/original.md §8): parse the
 * cascade XML (the OpenCV 2.4+ `opencv-cascade-classifier` format and the older
 * `opencv-haar-classifier` format), build integral images, run the boosted stage classifiers over a
 * multi-scale sliding window and group the raw hits as `detectMultiScale` does (scale 1.3,
 * min-neighbours 5 in the demos).
 * @module
 */

/** One rectangle of a Haar feature, in window coordinates, with its weight. */
export interface HaarRect {
  /** Left column (window or image pixels). */
  x: number;
  /** Top row. */
  y: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Multiplier of the rectangle's pixel sum. */
  weight: number;
}

/** A node of a weak classifier tree: a feature test with two children (a child < 0 is leaf `~child`). */
export interface HaarNode {
  /** Index into {@link HaarCascade.features}. */
  feature: number;
  /** Decision threshold (before variance normalisation). */
  threshold: number;
  /** Child node index (>= 0) or a leaf as `-(leafIndex + 1)`. */
  left: number;
  /** Child taken when the feature value is >= threshold (same encoding as `left`). */
  right: number;
}

/** A weak classifier: a tree of nodes (a stump has one) and its leaf values. */
export interface HaarTree {
  /** Nodes; index 0 is the root. */
  nodes: HaarNode[];
  /** Leaf outputs, added to the stage sum. */
  leaves: number[];
}

/** A boosted stage: the window passes when the sum of its trees' outputs reaches the threshold. */
export interface HaarStage {
  /** Decision threshold (before variance normalisation). */
  threshold: number;
  /** Weak classifiers. */
  trees: HaarTree[];
}

/** A Haar feature: weighted rectangles (upright only: tilted features are rejected at parse time). */
export interface HaarFeature {
  /** Weighted rectangles summed into the feature value. */
  rects: HaarRect[];
}

/** A parsed cascade. */
export interface HaarCascade {
  /** Base window size in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Stages in evaluation order. */
  stages: HaarStage[];
  /** Features the tree nodes index. */
  features: HaarFeature[];
}

/** A detected object box in image pixels, with the number of raw hits merged into it. */
export interface HaarDetection {
  /** Left column (window or image pixels). */
  x: number;
  /** Top row. */
  y: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Raw hits merged into this box (1 for a raw hit). */
  neighbors: number;
}

/** Options of {@link detectMultiScale} (OpenCV's names and defaults). */
export interface DetectMultiScaleOptions {
  /** Pyramid step between scales (the demos: 1.3). */
  scaleFactor?: number;
  /** A group needs more than this many raw hits (the demos: 5). */
  minNeighbors?: number;
  /** Smallest box side in pixels (default: the cascade window). */
  minSize?: number;
  /** Largest box side in pixels (default: the image). */
  maxSize?: number;
}

// ---------------------------------------------------------------------------------------------
// Minimal XML reader: elements, attributes, text; comments, declarations and CDATA handled.

/** An XML element as read by {@link parseXml}. */
export interface XmlElement {
  /** Tag name. */
  name: string;
  /** Attributes by name. */
  attrs: Record<string, string>;
  /** Child elements in document order. */
  children: XmlElement[];
  /** Concatenated text content (entities decoded). */
  text: string;
}

/** Parse an XML document into its root element (enough for OpenCV storage files). */
export function parseXml(src: string, source = "XML"): XmlElement {
  const root: XmlElement = { name: "#document", attrs: {}, children: [], text: "" };
  const stack: XmlElement[] = [root];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const lt = src.indexOf("<", i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) stack[stack.length - 1].text += decodeEntities(src.slice(i, textEnd));
    if (lt < 0) break;
    if (src.startsWith("<!--", lt)) {
      const e = src.indexOf("-->", lt + 4);
      if (e < 0) throw new Error(`${source}: unterminated comment at offset ${lt}`);
      i = e + 3;
    } else if (src.startsWith("<?", lt)) {
      const e = src.indexOf("?>", lt + 2);
      if (e < 0) throw new Error(`${source}: unterminated declaration at offset ${lt}`);
      i = e + 2;
    } else if (src.startsWith("<![CDATA[", lt)) {
      const e = src.indexOf("]]>", lt + 9);
      if (e < 0) throw new Error(`${source}: unterminated CDATA at offset ${lt}`);
      stack[stack.length - 1].text += src.slice(lt + 9, e);
      i = e + 3;
    } else if (src.startsWith("<!", lt)) {
      const e = src.indexOf(">", lt + 2);
      if (e < 0) throw new Error(`${source}: unterminated <! at offset ${lt}`);
      i = e + 1;
    } else if (src[lt + 1] === "/") {
      const e = src.indexOf(">", lt);
      if (e < 0) throw new Error(`${source}: unterminated end tag at offset ${lt}`);
      const name = src.slice(lt + 2, e).trim();
      const top = stack.pop()!;
      if (top.name !== name || stack.length === 0) {
        throw new Error(`${source}: </${name}> at offset ${lt} does not close <${top.name}>`);
      }
      i = e + 1;
    } else {
      const e = src.indexOf(">", lt);
      if (e < 0) throw new Error(`${source}: unterminated tag at offset ${lt}`);
      let body = src.slice(lt + 1, e);
      const selfClosing = body.endsWith("/");
      if (selfClosing) body = body.slice(0, -1);
      const m = /^([^\s/>]+)/.exec(body);
      if (!m) throw new Error(`${source}: bad tag at offset ${lt}`);
      const el: XmlElement = { name: m[1], attrs: {}, children: [], text: "" };
      for (const a of body.slice(m[1].length).matchAll(/([^\s=]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
        el.attrs[a[1]] = decodeEntities(a[3] ?? a[4] ?? "");
      }
      stack[stack.length - 1].children.push(el);
      if (!selfClosing) stack.push(el);
      i = e + 1;
    }
  }
  if (stack.length !== 1) throw new Error(`${source}: <${stack[stack.length - 1].name}> is never closed`);
  if (root.children.length === 0) throw new Error(`${source}: no root element`);
  return root.children[0];
}

function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(
    /&(lt|gt|amp|quot|apos);/g,
    (_, e: string) => ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" })[e] as string,
  );
}

function child(el: XmlElement, name: string, source: string): XmlElement {
  const c = el.children.find((k) => k.name === name);
  if (!c) throw new Error(`${source}: <${el.name}> has no <${name}>`);
  return c;
}

function numbers(el: XmlElement, source: string): number[] {
  const parts = el.text.trim().split(/\s+/).filter((s) => s.length > 0);
  const out = parts.map(Number);
  if (out.some((v) => !Number.isFinite(v))) {
    throw new Error(`${source}: <${el.name}> holds a non-number: "${el.text.trim()}"`);
  }
  return out;
}

function number(el: XmlElement, name: string, source: string): number {
  const v = numbers(child(el, name, source), source);
  if (v.length !== 1) throw new Error(`${source}: <${name}> should hold one number`);
  return v[0];
}

function parseRect(el: XmlElement, source: string): HaarRect {
  const v = numbers(el, source);
  if (v.length !== 5) {
    throw new Error(`${source}: a feature rectangle needs "x y w h weight", got "${el.text.trim()}"`);
  }
  return { x: v[0], y: v[1], width: v[2], height: v[3], weight: v[4] };
}

function isTilted(el: XmlElement, source: string): boolean {
  const t = el.children.find((k) => k.name === "tilted");
  return t !== undefined && number(el, "tilted", source) !== 0;
}

/** Parse an OpenCV Haar cascade XML file's text (new or old format). */
export function parseCascade(xml: string, source = "cascade"): HaarCascade {
  const storage = parseXml(xml, source);
  const top = storage.children[0];
  if (!top) throw new Error(`${source}: empty OpenCV storage`);
  const typeId = top.attrs["type_id"] ?? "";
  if (typeId === "opencv-haar-classifier" || top.children.some((c) => c.name === "size")) {
    return parseOldCascade(top, source);
  }
  return parseNewCascade(top, source);
}

function parseNewCascade(c: XmlElement, source: string): HaarCascade {
  const feat = c.children.find((k) => k.name === "featureType");
  if (feat && feat.text.trim().toUpperCase() !== "HAAR") {
    throw new Error(`${source}: featureType ${feat.text.trim()} is not supported (only HAAR cascades)`);
  }
  const stageType = c.children.find((k) => k.name === "stageType");
  if (stageType && stageType.text.trim().toUpperCase() !== "BOOST") {
    throw new Error(`${source}: stageType ${stageType.text.trim()} is not supported (only BOOST)`);
  }
  const width = number(c, "width", source);
  const height = number(c, "height", source);
  const features: HaarFeature[] = child(c, "features", source).children.map((f, fi) => {
    if (isTilted(f, source)) {
      throw new Error(`${source}: feature ${fi} is tilted; tilted features are not supported`);
    }
    return { rects: child(f, "rects", source).children.map((r) => parseRect(r, source)) };
  });
  const stages: HaarStage[] = child(c, "stages", source).children.map((s) => {
    const trees = child(s, "weakClassifiers", source).children.map((w): HaarTree => {
      const inner = numbers(child(w, "internalNodes", source), source);
      const leaves = numbers(child(w, "leafValues", source), source);
      if (inner.length % 4 !== 0) throw new Error(`${source}: internalNodes must hold groups of 4 numbers`);
      const nodes: HaarNode[] = [];
      // Each node: left, right, featureIdx, threshold; a child <= 0 is the leaf at index -child.
      for (let k = 0; k < inner.length; k += 4) {
        const conv = (v: number) => v > 0 ? v : -(-v + 1);
        nodes.push({
          left: conv(inner[k]),
          right: conv(inner[k + 1]),
          feature: inner[k + 2],
          threshold: inner[k + 3],
        });
      }
      return { nodes, leaves };
    });
    return { threshold: number(s, "stageThreshold", source), trees };
  });
  return validateCascade({ width, height, stages, features }, source);
}

function parseOldCascade(c: XmlElement, source: string): HaarCascade {
  const size = numbers(child(c, "size", source), source);
  if (size.length !== 2) throw new Error(`${source}: <size> should hold "width height"`);
  const features: HaarFeature[] = [];
  const stages: HaarStage[] = child(c, "stages", source).children.map((s, si) => {
    // Stages of a tree-structured cascade name a parent other than the previous stage: unsupported.
    const parent = s.children.find((k) => k.name === "parent");
    if (parent && si > 0 && Number(parent.text.trim()) !== si - 1 && Number(parent.text.trim()) !== -1) {
      throw new Error(
        `${source}: stage ${si} has parent ${parent.text.trim()}; tree-structured cascades are not supported`,
      );
    }
    const trees = child(s, "trees", source).children.map((t): HaarTree => {
      const nodes: HaarNode[] = [];
      const leaves: number[] = [];
      for (const nodeEl of t.children) {
        const f = child(nodeEl, "feature", source);
        if (isTilted(f, source)) throw new Error(`${source}: tilted features are not supported`);
        features.push({ rects: child(f, "rects", source).children.map((r) => parseRect(r, source)) });
        const side = (which: "left" | "right"): number => {
          const val = nodeEl.children.find((k) => k.name === `${which}_val`);
          if (val) {
            leaves.push(number(nodeEl, `${which}_val`, source));
            return -leaves.length;
          }
          return number(nodeEl, `${which}_node`, source);
        };
        const left = side("left");
        const right = side("right");
        nodes.push({
          feature: features.length - 1,
          threshold: number(nodeEl, "threshold", source),
          left,
          right,
        });
      }
      return { nodes, leaves };
    });
    return { threshold: number(s, "stage_threshold", source), trees };
  });
  return validateCascade({ width: size[0], height: size[1], stages, features }, source);
}

function validateCascade(c: HaarCascade, source: string): HaarCascade {
  if (!(c.width > 0 && c.height > 0)) throw new Error(`${source}: bad window size ${c.width}x${c.height}`);
  if (c.stages.length === 0) throw new Error(`${source}: the cascade has no stages`);
  for (const s of c.stages) {
    for (const t of s.trees) {
      if (t.nodes.length === 0) throw new Error(`${source}: a weak classifier has no nodes`);
      for (const nd of t.nodes) {
        if (!(nd.feature >= 0 && nd.feature < c.features.length)) {
          throw new Error(
            `${source}: feature index ${nd.feature} is out of range (0..${c.features.length - 1})`,
          );
        }
        for (const ch of [nd.left, nd.right]) {
          if (ch >= t.nodes.length || (ch < 0 && -ch - 1 >= t.leaves.length)) {
            throw new Error(`${source}: a tree child index is out of range`);
          }
        }
      }
    }
  }
  for (const f of c.features) {
    for (const r of f.rects) {
      if (r.x < 0 || r.y < 0 || r.x + r.width > c.width || r.y + r.height > c.height) {
        throw new Error(`${source}: a feature rectangle lies outside the ${c.width}x${c.height} window`);
      }
    }
  }
  return c;
}

/** Read and parse a cascade file; the error names the file. */
export async function loadCascade(path: string): Promise<HaarCascade> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`--cascade=${path}: cannot read the file (${(e as Error).message})`);
  }
  return parseCascade(text, path);
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

/** 8-bit-range grayscale image (values 0..255, row-major). */
export interface GrayImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Pixel values, row-major. */
  data: Float32Array;
}

/** Grayscale from RGBA with OpenCV's BGR2GRAY weights, rounded to integers as OpenCV's 8-bit output. */
export function rgbaToGray(
  img: { width: number; height: number; data: Uint8Array | Uint8ClampedArray },
): GrayImage {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    out[i] = Math.round(0.299 * d[j] + 0.587 * d[j + 1] + 0.114 * d[j + 2]);
  }
  return { width: img.width, height: img.height, data: out };
}

/** Bilinear resize (half-pixel centres) of a grayscale image, rounded to integers. */
export function resizeGray(src: GrayImage, width: number, height: number): GrayImage {
  const out = new Float32Array(width * height);
  const sx = src.width / width, sy = src.height / height;
  const w = src.width, h = src.height, d = src.data;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), wx = fx - x0;
      const top = d[y0 * w + x0] * (1 - wx) + d[y0 * w + x1] * wx;
      const bot = d[y1 * w + x0] * (1 - wx) + d[y1 * w + x1] * wx;
      out[y * width + x] = Math.round(top * (1 - wy) + bot * wy);
    }
  }
  return { width, height, data: out };
}

/** Integral and squared integral images, (w+1)*(h+1), with a zero first row and column. */
export function integralImages(g: GrayImage): { sum: Float64Array; sqsum: Float64Array; stride: number } {
  const stride = g.width + 1;
  const sum = new Float64Array(stride * (g.height + 1));
  const sqsum = new Float64Array(stride * (g.height + 1));
  for (let y = 0; y < g.height; y++) {
    let rs = 0, rq = 0;
    for (let x = 0; x < g.width; x++) {
      const v = g.data[y * g.width + x];
      rs += v;
      rq += v * v;
      const o = (y + 1) * stride + x + 1;
      sum[o] = sum[o - stride] + rs;
      sqsum[o] = sqsum[o - stride] + rq;
    }
  }
  return { sum, sqsum, stride };
}

/** A cascade flattened into typed arrays (stride-independent part). */
interface Flat {
  stageThr: Float64Array;
  /** Trees of stage s: treeStart[s] .. treeStart[s + 1]. */
  treeStart: Int32Array;
  /** Root node of each tree (global node index). */
  treeRoot: Int32Array;
  nodeFeature: Int32Array;
  nodeThr: Float64Array;
  /** Child: >= 0 a global node index, < 0 the global leaf `-child - 1`. */
  nodeLeft: Int32Array;
  nodeRight: Int32Array;
  leaves: Float64Array;
  /** Rects of feature f: rectStart[f] .. rectStart[f + 1]. */
  rectStart: Int32Array;
  rects: HaarRect[];
}

function flatten(c: HaarCascade): Flat {
  const nTrees = c.stages.reduce((a, s) => a + s.trees.length, 0);
  const nNodes = c.stages.reduce((a, s) => a + s.trees.reduce((b, t) => b + t.nodes.length, 0), 0);
  const nLeaves = c.stages.reduce((a, s) => a + s.trees.reduce((b, t) => b + t.leaves.length, 0), 0);
  const f: Flat = {
    stageThr: Float64Array.from(c.stages.map((s) => s.threshold)),
    treeStart: new Int32Array(c.stages.length + 1),
    treeRoot: new Int32Array(nTrees),
    nodeFeature: new Int32Array(nNodes),
    nodeThr: new Float64Array(nNodes),
    nodeLeft: new Int32Array(nNodes),
    nodeRight: new Int32Array(nNodes),
    leaves: new Float64Array(nLeaves),
    rectStart: new Int32Array(c.features.length + 1),
    rects: c.features.flatMap((ft) => ft.rects),
  };
  let t = 0, n = 0, l = 0;
  c.stages.forEach((st, si) => {
    f.treeStart[si] = t;
    for (const tree of st.trees) {
      f.treeRoot[t++] = n;
      const child = (v: number) => (v >= 0 ? n + v : -(l + (-v - 1)) - 1);
      tree.nodes.forEach((nd, k) => {
        f.nodeFeature[n + k] = nd.feature;
        f.nodeThr[n + k] = nd.threshold;
        f.nodeLeft[n + k] = child(nd.left);
        f.nodeRight[n + k] = child(nd.right);
      });
      tree.leaves.forEach((v, k) => (f.leaves[l + k] = v));
      n += tree.nodes.length;
      l += tree.leaves.length;
    }
  });
  f.treeStart[c.stages.length] = t;
  let r = 0;
  c.features.forEach((ft, fi) => {
    f.rectStart[fi] = r;
    r += ft.rects.length;
  });
  f.rectStart[c.features.length] = r;
  return f;
}

/**
 * A window classifier for one integral-image stride: true when every stage passes at integral offset
 * `p`. Feature sums are divided by the window's standard deviation times its inner area (OpenCV's
 * variance normalisation over the window shrunk by one pixel on each side).
 */
function windowClassifier(
  c: HaarCascade,
  f: Flat,
  sum: Float64Array,
  sqsum: Float64Array,
  stride: number,
): (p: number) => boolean {
  const nr = f.rects.length;
  const o0 = new Int32Array(nr), o1 = new Int32Array(nr), o2 = new Int32Array(nr), o3 = new Int32Array(nr);
  const w = new Float64Array(nr);
  f.rects.forEach((r, i) => {
    o0[i] = r.y * stride + r.x;
    o1[i] = r.y * stride + r.x + r.width;
    o2[i] = (r.y + r.height) * stride + r.x;
    o3[i] = (r.y + r.height) * stride + r.x + r.width;
    w[i] = r.weight;
  });
  const { stageThr, treeStart, treeRoot, nodeFeature, nodeThr, nodeLeft, nodeRight, leaves, rectStart } = f;
  const nStages = stageThr.length;
  const nw = c.width - 2, nh = c.height - 2, area = nw * nh;
  const na = stride + 1, nb = na + nw, nc = na + nh * stride, nd = nc + nw;
  return (p: number): boolean => {
    const vs = sum[p + nd] - sum[p + nb] - sum[p + nc] + sum[p + na];
    const vq = sqsum[p + nd] - sqsum[p + nb] - sqsum[p + nc] + sqsum[p + na];
    let nf = area * vq - vs * vs;
    nf = nf > 0 ? Math.sqrt(nf) : 1;
    for (let s = 0; s < nStages; s++) {
      let total = 0;
      const tEnd = treeStart[s + 1];
      for (let t = treeStart[s]; t < tEnd; t++) {
        let node = treeRoot[t];
        for (;;) {
          const ft = nodeFeature[node];
          let v = 0;
          const rEnd = rectStart[ft + 1];
          for (let r = rectStart[ft]; r < rEnd; r++) {
            v += w[r] * (sum[p + o3[r]] - sum[p + o1[r]] - sum[p + o2[r]] + sum[p + o0[r]]);
          }
          const next = v < nodeThr[node] * nf ? nodeLeft[node] : nodeRight[node];
          if (next < 0) {
            total += leaves[-next - 1];
            break;
          }
          node = next;
        }
      }
      if (total < stageThr[s]) return false;
    }
    return true;
  };
}

/** Raw (ungrouped) hits of the cascade over an image pyramid. */
export function detectRaw(
  c: HaarCascade,
  gray: GrayImage,
  opts: DetectMultiScaleOptions = {},
): HaarDetection[] {
  const scaleFactor = opts.scaleFactor ?? 1.1;
  if (!(scaleFactor > 1)) throw new Error(`scaleFactor must be > 1, got ${scaleFactor}`);
  const minSize = opts.minSize ?? 0;
  const maxSize = opts.maxSize ?? Math.max(gray.width, gray.height);
  const out: HaarDetection[] = [];
  const flat = flatten(c);
  for (let factor = 1;; factor *= scaleFactor) {
    const winW = Math.round(c.width * factor), winH = Math.round(c.height * factor);
    const sw = Math.round(gray.width / factor), sh = Math.round(gray.height / factor);
    if (sw < c.width || sh < c.height) break;
    if (winW > maxSize || winH > maxSize) break;
    if (winW < minSize || winH < minSize) continue;
    const scaled = factor === 1 ? gray : resizeGray(gray, sw, sh);
    const { sum, sqsum, stride } = integralImages(scaled);
    const accept = windowClassifier(c, flat, sum, sqsum, stride);
    // OpenCV steps 2 pixels at fine scales and 1 at coarse ones.
    const step = factor > 2 ? 1 : 2;
    for (let y = 0; y + c.height <= sh; y += step) {
      for (let x = 0; x + c.width <= sw; x += step) {
        if (accept(y * stride + x)) {
          out.push({
            x: Math.round(x * factor),
            y: Math.round(y * factor),
            width: winW,
            height: winH,
            neighbors: 1,
          });
        }
      }
    }
  }
  return out;
}

/**
 * Merge raw hits as OpenCV's `groupRectangles`: cluster similar boxes (eps 0.2), keep clusters with
 * more than `minNeighbors` members as their average box, then drop boxes nested in a stronger one.
 */
export function groupRectangles(rects: HaarDetection[], minNeighbors: number, eps = 0.2): HaarDetection[] {
  const n = rects.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const r1 = rects[i], r2 = rects[j];
      const delta = eps * (Math.min(r1.width, r2.width) + Math.min(r1.height, r2.height)) * 0.5;
      if (
        Math.abs(r1.x - r2.x) <= delta && Math.abs(r1.y - r2.y) <= delta &&
        Math.abs(r1.x + r1.width - r2.x - r2.width) <= delta &&
        Math.abs(r1.y + r1.height - r2.y - r2.height) <= delta
      ) {
        const a = find(i), b = find(j);
        if (a !== b) parent[a] = b;
      }
    }
  }
  const acc = new Map<number, { x: number; y: number; w: number; h: number; n: number }>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    const e = acc.get(r) ?? { x: 0, y: 0, w: 0, h: 0, n: 0 };
    e.x += rects[i].x;
    e.y += rects[i].y;
    e.w += rects[i].width;
    e.h += rects[i].height;
    e.n++;
    acc.set(r, e);
  }
  const groups: HaarDetection[] = [];
  for (const e of acc.values()) {
    if (e.n <= minNeighbors) continue;
    const s = 1 / e.n;
    groups.push({
      x: Math.round(e.x * s),
      y: Math.round(e.y * s),
      width: Math.round(e.w * s),
      height: Math.round(e.h * s),
      neighbors: e.n,
    });
  }
  return groups.filter((r1) =>
    !groups.some((r2) => {
      if (r1 === r2) return false;
      const dx = Math.round(r2.width * eps), dy = Math.round(r2.height * eps);
      return r1.x >= r2.x - dx && r1.y >= r2.y - dy &&
        r1.x + r1.width <= r2.x + r2.width + dx && r1.y + r1.height <= r2.y + r2.height + dy &&
        (r2.neighbors > Math.max(3, r1.neighbors) || r1.neighbors < 3);
    })
  );
}

/** Multi-scale detection with grouping, as OpenCV's `CascadeClassifier.detectMultiScale`. */
export function detectMultiScale(
  c: HaarCascade,
  gray: GrayImage,
  opts: DetectMultiScaleOptions = {},
): HaarDetection[] {
  const raw = detectRaw(c, gray, opts);
  const minNeighbors = opts.minNeighbors ?? 3;
  if (minNeighbors <= 0) return raw;
  return groupRectangles(raw, minNeighbors).sort((a, b) => a.x - b.x || a.y - b.y);
}
